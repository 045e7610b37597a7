/**
 * A project whose package.json says `"sideEffects": false` (common in monorepo packages)
 * still gets its envelopes. The plugin brings envelopes in through side-effect imports of
 * its modules, and webpack and Rspack keep those modules as files in the project directory,
 * where that flag would let them drop the imports: the build would pass and the function
 * fail at its first read. Each bundler builds for production; the output runs.
 */
import { join } from "node:path";
import { rspack } from "@rspack/core";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import sealkitRollup from "@sealkit/plugin/rollup";
import sealkitRspack from "@sealkit/plugin/rspack";
import sealkitVite from "@sealkit/plugin/vite";
import sealkitWebpack from "@sealkit/plugin/webpack";
import * as esbuild from "esbuild";
import { rollup } from "rollup";
import { build as viteBuild } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import webpack from "webpack";
import { type Project, VALUES, type WebpackLikeCompile, compileWebpackLike, makeProject, runBundle } from "./_support.js";

type Options = { root: string; dts: false; manifest: false };
function webpackLike(run: WebpackLikeCompile, plugin: (o: Options) => unknown) {
  return async (entry: string, out: string, options: Options): Promise<string> => {
    await compileWebpackLike(run, {
      mode: "production",
      target: "node",
      context: options.root,
      entry,
      output: { path: out, filename: "w.cjs", library: { type: "commonjs2" } },
      plugins: [plugin(options)],
    });
    return join(out, "w.cjs");
  };
}

const BUNDLERS: { name: string; build(entry: string, out: string, options: Options): Promise<string> }[] = [
  {
    name: "esbuild",
    async build(entry, out, options) {
      const outfile = join(out, "w.mjs");
      await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, platform: "node", format: "esm", outfile, logLevel: "silent", plugins: [sealkitEsbuild(options)] });
      return outfile;
    },
  },
  {
    name: "vite",
    async build(entry, out, options) {
      await viteBuild({
        root: options.root,
        configFile: false,
        logLevel: "silent",
        plugins: [sealkitVite(options)],
        ssr: { noExternal: true },
        build: { ssr: entry, outDir: out, minify: true, rollupOptions: { output: { entryFileNames: "w.mjs" } } },
      });
      return join(out, "w.mjs");
    },
  },
  {
    name: "rollup",
    async build(entry, out, options) {
      const bundle = await rollup({ input: entry, external: [/^@sealkit\//], treeshake: "smallest", logLevel: "silent", plugins: [sealkitRollup(options)] });
      await bundle.write({ file: join(out, "w.mjs"), format: "es" });
      await bundle.close();
      return join(out, "w.mjs");
    },
  },
  { name: "webpack", build: webpackLike(webpack as unknown as WebpackLikeCompile, sealkitWebpack) },
  { name: "rspack", build: webpackLike(rspack as unknown as WebpackLikeCompile, sealkitRspack) },
];

let p: Project;
beforeAll(async () => {
  p = await makeProject();
  await p.write({
    "package.json": JSON.stringify({ name: "side-effect-free-app", private: true, type: "module", sideEffects: false }),
    "src/w.js": 'import { secret } from "@sealkit/runtime";\nexport const read = async () => ({ db: await secret("db-password"), token: await secret("token") });\n',
  });
});
afterAll(() => p.cleanup());

describe.each(BUNDLERS)('$name, package.json "sideEffects": false', (b) => {
  it("the production bundle carries its envelopes and the function reads its values", async () => {
    const file = await b.build(join(p.dir, "src/w.js"), join(p.dir, "out", b.name), { root: p.dir, dts: false, manifest: false });
    const out = runBundle(file, p.localKey, "read", { NODE_ENV: "production" });
    expect(out).toMatchObject({ first: { db: VALUES["db-password"], token: VALUES.token }, unwraps: 1 });
  }, 60_000);
});
