// Builds dist/handler.mjs (the function, for deployment) and dist/server.mjs (a local host
// for it) with the Sealkit esbuild plugin: each secret("name") becomes its envelope from
// the store (sealkit.secrets.json here, or $SEALKIT_STORE), and the build writes
// dist/sealkit-manifest.json for `sealkit policy`. The build needs no Key Vault access.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sealkit from "@sealkit/plugin/esbuild";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.env.OUT_DIR || join(here, "dist");

await esbuild.build({
  entryPoints: { handler: join(here, "src/handler.ts"), server: join(here, "src/server.ts") },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  // The provider stays in node_modules with its SDK, so @azure/keyvault-keys and
  // @azure/identity load on the first unwrap only, not at cold start.
  external: ["@sealkit/azure-key-vault", "@azure/*"],
  plugins: [sealkit({ root: here, manifest: join(outdir, "sealkit-manifest.json"), dts: false })],
  logLevel: "warning",
});
console.log(`built ${join(outdir, "handler.mjs")} and ${join(outdir, "server.mjs")}`);
