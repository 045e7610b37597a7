// Builds dist/server.mjs with the Sealkit esbuild plugin: each secret("name") becomes its
// envelope from the store (sealkit.secrets.json here, or $SEALKIT_STORE), and the build
// writes dist/sealkit-manifest.json for `sealkit policy`. No Cloud KMS access is needed.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sealkit from "@sealkit/plugin/esbuild";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.env.OUT_DIR || join(here, "dist");

await esbuild.build({
  entryPoints: [join(here, "src/server.ts")],
  outfile: join(outdir, "server.mjs"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  // The provider stays in node_modules with its SDK: @google-cloud/kms then loads on the
  // first unwrap only, and @node-rs/crc32 keeps its per-platform native build.
  external: ["@sealkit/gcp-kms", "@google-cloud/kms", "@node-rs/crc32"],
  plugins: [sealkit({ root: here, manifest: join(outdir, "sealkit-manifest.json"), dts: false })],
  logLevel: "warning",
});
console.log(`built ${join(outdir, "server.mjs")}`);
