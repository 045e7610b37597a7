// Builds dist/handler.mjs, ready to zip for Lambda (Node 20+, ESM).
import * as esbuild from "esbuild";
import sealkit from "@sealkit/plugin/esbuild";

await esbuild.build({
  entryPoints: ["src/handler.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  minify: true,
  sourcemap: true,
  outfile: "dist/handler.mjs",
  logLevel: "info",
  // Reads sealkit.secrets.json (or $SEALKIT_STORE); writes dist/sealkit-manifest.json.
  plugins: [sealkit()],
});
