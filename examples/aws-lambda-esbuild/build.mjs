// Builds dist/handler.mjs, ready to zip for Lambda (Node 20+, ESM).
//   node build.mjs [--store sealkit.aws.secrets.json] [--outdir dist] [--watch]
// --watch rebuilds on every source change and on every change to the store (sealkit set,
// rotate, rekey), until interrupted.
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import sealkit from "@sealkit/plugin/esbuild";

const { values } = parseArgs({
  options: { store: { type: "string" }, outdir: { type: "string", default: "dist" }, watch: { type: "boolean", default: false } },
});

const options = {
  entryPoints: ["src/handler.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  sourcemap: true,
  outfile: `${values.outdir}/handler.mjs`,
  logLevel: "info",
  // Lambda's Node.js runtimes ship AWS SDK v3. @sealkit/aws-kms needs it only where its light
  // Decrypt (node:https + SigV4) does not apply, e.g. credentials from a profile.
  external: ["@aws-sdk/*"],
  // Reads --store, else sealkit.secrets.json (or $SEALKIT_STORE); writes <outdir>/sealkit-manifest.json.
  plugins: [sealkit(values.store ? { store: values.store } : {})],
};

if (values.watch) await (await esbuild.context(options)).watch();
else await esbuild.build(options);
