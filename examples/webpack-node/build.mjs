// Builds src/handler.js for Node with webpack (default), Rspack or Rollup, all with the
// same @sealkit/plugin: node build.mjs --bundler webpack|rspack|rollup
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { bundler: { type: "string", default: "webpack" } } });
const bundler = values.bundler;
const outDir = resolve("dist", bundler);

if (bundler === "rollup") {
  const { rollup } = await import("rollup");
  const { default: sealkit } = await import("@sealkit/plugin/rollup");
  // Without a resolve plugin Rollup leaves packages external: Node loads @sealkit/runtime
  // from node_modules at run time, and the envelopes and data-key record are in the bundle.
  const bundle = await rollup({ input: "src/handler.js", external: [/^@sealkit\//, /^node:/], plugins: [sealkit()] });
  await bundle.write({ dir: outDir, format: "es", entryFileNames: "handler.mjs", sourcemap: true });
  await bundle.close();
} else {
  const config = {
    mode: "production",
    target: "node20",
    entry: "./src/handler.js",
    devtool: "source-map",
    output: { path: outDir, filename: "handler.cjs", library: { type: "commonjs2" } },
  };
  let compiler;
  if (bundler === "rspack") {
    const { rspack } = await import("@rspack/core");
    const { default: sealkit } = await import("@sealkit/plugin/rspack");
    compiler = rspack({ ...config, plugins: [sealkit()] });
  } else if (bundler === "webpack") {
    const { default: webpack } = await import("webpack");
    const { default: sealkit } = await import("@sealkit/plugin/webpack");
    compiler = webpack({ ...config, plugins: [sealkit()] });
  } else {
    throw new Error(`unknown --bundler ${bundler}: use webpack, rspack or rollup`);
  }
  const stats = await new Promise((ok, fail) => compiler.run((err, s) => (err ? fail(err) : ok(s))));
  await new Promise((ok) => compiler.close(ok));
  if (stats.hasErrors()) {
    console.error(stats.toString({ all: false, errors: true }));
    process.exit(1);
  }
}
console.log(`built dist/${bundler}`);
