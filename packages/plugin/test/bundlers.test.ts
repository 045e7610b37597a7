/** The plugin inside real bundlers (esbuild, Rollup): errors through their channel, dedupe, CommonJS. */
import { readFile, readdir } from "node:fs/promises";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { join } from "node:path";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import sealkitRollup from "@sealkit/plugin/rollup";
import sealkitRspack from "@sealkit/plugin/rspack";
import sealkitWebpack from "@sealkit/plugin/webpack";
import { rspack } from "@rspack/core";
import webpack from "webpack";
import * as esbuild from "esbuild";
import { rollup } from "rollup";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Project, VALUES, type WebpackLikeCompile, compileWebpackLike, makeProject, runBundle } from "./_support.js";

let p: Project;
beforeAll(async () => {
  p = await makeProject();
  await p.write({
    "src/a.ts": 'import { secret } from "@sealkit/runtime";\nexport const a = () => secret("db-password");\n',
    "src/b.ts": 'import * as sk from "@sealkit/runtime";\nexport const b = () => sk.secret("db-password");\n',
    "src/c.cjs": 'const { secretBytes } = require("@sealkit/runtime");\nexports.c = () => secretBytes("token");\n',
    "src/index.ts": 'export { a } from "./a";\nexport { b } from "./b";\nexport { c } from "./c.cjs";\n',
    "src/typo.ts": 'import { secret } from "@sealkit/runtime";\n\nexport const t = () =>\n  secret("db-pasword");\n',
    "src/dynamic.js": 'import { secret } from "@sealkit/runtime";\nexport const d = (n) => secret(n);\n',
    "src/mapped.js": 'import { secret } from "@sealkit/runtime";\nexport const m = async () => {\n  const v = await secret("api-key");\n  return v;\n};\n',
  });
});
afterAll(() => p.cleanup());

const opts = () => ({ root: p.dir, dts: false as const });

describe("esbuild", () => {
  it("a secret used in several modules is in the bundle once, with one data-key record; CommonJS too", async () => {
    const r = await esbuild.build({
      entryPoints: [join(p.dir, "src/index.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      minify: true,
      write: false,
      outfile: join(p.dir, "out/index.mjs"),
      logLevel: "silent",
      plugins: [sealkitEsbuild(opts())],
    });
    const code = r.outputFiles[0]?.text ?? "";
    expect(code.match(/sealkit-key:1:/g)).toHaveLength(1);
    expect(code.match(/sealkit:1:[^:"]+:1:db-password:/g)).toHaveLength(1);
    expect(code.match(/sealkit:1:[^:"]+:1:token:/g)).toHaveLength(1);
    expect(r.metafile).toBeUndefined();
  });

  it("reports an unknown name through esbuild's errors with file, line, column", async () => {
    const err = await esbuild
      .build({ entryPoints: [join(p.dir, "src/typo.ts")], bundle: true, platform: "node", write: false, logLevel: "silent", plugins: [sealkitEsbuild(opts())] })
      .catch((e: esbuild.BuildFailure) => e);
    const m = (err as esbuild.BuildFailure).errors[0];
    expect(m?.text).toContain('no secret named "db-pasword"');
    expect(m?.text).toContain('did you mean "db-password"?');
    expect(m?.pluginName).toBe("sealkit");
    expect(m?.location).toMatchObject({ line: 4, column: 9, lineText: '  secret("db-pasword");' });
    expect(m?.location?.file).toContain("typo.ts");
  });

  it("refuses a build without bundle: true, where the plugin could add no envelope", async () => {
    const err = await esbuild
      .build({ entryPoints: [join(p.dir, "src/a.ts")], platform: "node", write: false, logLevel: "silent", plugins: [sealkitEsbuild(opts())] })
      .catch((e: esbuild.BuildFailure) => e);
    expect((err as esbuild.BuildFailure).errors[0]?.text).toContain("needs bundle: true");
  });

  it("refuses secret() with an explicit browser platform", async () => {
    const err = await esbuild
      .build({ entryPoints: [join(p.dir, "src/a.ts")], bundle: true, platform: "browser", write: false, logLevel: "silent", plugins: [sealkitEsbuild(opts())] })
      .catch((e: esbuild.BuildFailure) => e);
    expect((err as esbuild.BuildFailure).errors[0]?.text).toContain("browser-targeted bundle");
    expect((err as esbuild.BuildFailure).errors[0]?.location).toMatchObject({ line: 2, column: 30 });
  });
  it("code splitting: entries share one data-key record, each output runs, the manifest follows chunk imports", async () => {
    await p.write({
      "src/split-1.ts": 'import { secret } from "@sealkit/runtime";\nexport const read = async () => ({ db: await secret("db-password"), api: await secret("api-key") });\n',
      "src/split-2.ts": 'import { secret } from "@sealkit/runtime";\nexport const read = async () => ({ db: await secret("db-password"), token: await secret("token") });\n',
    });
    const outdir = join(p.dir, "out-split");
    await esbuild.build({
      entryPoints: [join(p.dir, "src/split-1.ts"), join(p.dir, "src/split-2.ts")],
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      outdir,
      outExtension: { ".js": ".mjs" },
      logLevel: "silent",
      plugins: [sealkitEsbuild(opts())],
    });
    const files = (await readdir(outdir)).filter((f) => f.endsWith(".mjs"));
    const all = (await Promise.all(files.map((f) => readFile(join(outdir, f), "utf8")))).join("\n");
    expect(all.match(/sealkit-key:1:/g)).toHaveLength(1);
    expect(all.match(/:1:db-password:/g)).toHaveLength(1);
    expect(all).not.toMatch(/:1:unused-secret:/);
    const run = (f: string) => runBundle(join(outdir, f), p.localKey);
    expect(run("split-1.mjs")).toMatchObject({ first: { db: VALUES["db-password"], api: VALUES["api-key"] }, unwraps: 1 });
    expect(run("split-2.mjs")).toMatchObject({ first: { db: VALUES["db-password"], token: VALUES.token }, unwraps: 1 });
    const m = JSON.parse(await readFile(join(outdir, "sealkit-manifest.json"), "utf8"));
    expect(m.outputs["split-1.mjs"].stores[0].secrets).toEqual(["api-key", "db-password"]);
    expect(m.outputs["split-2.mjs"].stores[0].secrets).toEqual(["db-password", "token"]);
  });
});

describe("rollup", () => {
  it("reports a non-literal argument through this.error with loc and frame", async () => {
    const err = await rollup({ input: join(p.dir, "src/dynamic.js"), external: [/^@sealkit\//], logLevel: "silent", plugins: [sealkitRollup(opts())] }).catch(
      (e: Error & { loc?: unknown; frame?: string; plugin?: string; pluginCode?: string }) => e,
    );
    const e = err as Error & { loc?: unknown; frame?: string; plugin?: string; pluginCode?: string };
    expect(e.message).toContain("must be a string literal");
    expect(e.plugin).toBe("sealkit");
    expect(e.pluginCode).toBe("E_BUILD");
    expect(e.loc).toMatchObject({ line: 2, column: 31 });
    expect(e.frame).toContain("secret(n)");
  });

  it("source maps stay exact: the imports go where no original character moves (map: null)", async () => {
    const b = await rollup({ input: join(p.dir, "src/mapped.js"), external: [/^@sealkit\//], logLevel: "silent", plugins: [sealkitRollup(opts())] });
    const { output } = await b.generate({ format: "es", sourcemap: true });
    const chunk = output[0];
    const lines = chunk.code.split("\n");
    const line = lines.findIndex((l) => l.includes('secret("api-key")'));
    const column = (lines[line] as string).indexOf('secret("api-key")');
    const pos = originalPositionFor(new TraceMap(chunk.map as never), { line: line + 1, column });
    expect(pos).toMatchObject({ line: 3, column: 18 });
    expect(pos.source).toContain("mapped.js");
  });

  it("writes the manifest beside the output", async () => {
    const b = await rollup({ input: join(p.dir, "src/a.ts"), external: [/^@sealkit\//], logLevel: "silent", plugins: [sealkitRollup(opts())] });
    await b.write({ dir: join(p.dir, "out-rollup"), format: "es" });
    const m = JSON.parse(await readFile(join(p.dir, "out-rollup/sealkit-manifest.json"), "utf8"));
    expect(m.outputs["a.js"].stores[0].secrets).toEqual(["db-password"]);
    expect(m.outputs["a.js"].stores[0].storeFile).toBe("../sealkit.secrets.json");
  });
});

describe.each([
  { name: "webpack", run: webpack as unknown as WebpackLikeCompile, plugin: sealkitWebpack },
  { name: "rspack", run: rspack as unknown as WebpackLikeCompile, plugin: sealkitRspack },
])("$name", ({ name, run, plugin }) => {
  const compile = (config: object) => compileWebpackLike(run, config);

  it("production source maps map a secret() call back to its line and column", async () => {
    await p.write({ "src/wp-map.js": '// header\nimport { secret } from "@sealkit/runtime";\n\nexport const read = async () => {\n  const v = await secret("api-key");\n  return { api: v };\n};\n' });
    const out = join(p.dir, `out-map-${name}`);
    await compile({
      mode: "production",
      devtool: "source-map",
      target: "node",
      context: p.dir,
      entry: "./src/wp-map.js",
      output: { path: out, filename: "m.cjs", library: { type: "commonjs2" } },
      plugins: [plugin(opts())],
    });
    const code = await readFile(join(out, "m.cjs"), "utf8");
    const map = new TraceMap(JSON.parse(await readFile(join(out, "m.cjs.map"), "utf8")));
    const lines = code.split("\n");
    const call = /["'`]api-key["'`]\)/;
    const line = lines.findIndex((l) => call.test(l));
    const pos = originalPositionFor(map, { line: line + 1, column: (lines[line] as string).search(call) });
    expect(pos.source).toContain("wp-map.js");
    expect(pos).toMatchObject({ line: 5, column: "  const v = await secret(".length });
  }, 60_000);

  it("split chunks: one data-key record, each entry runs, and an entry's manifest entry lists the secrets of the chunks loaded with it", async () => {
    await p.write({
      "src/wp-shared.js": 'import { secret } from "@sealkit/runtime";\nexport const db = () => secret("db-password");\n',
      "src/wp-1.js": 'import { secret } from "@sealkit/runtime";\nimport { db } from "./wp-shared.js";\nexport const read = async () => ({ db: await db(), api: await secret("api-key") });\n',
      "src/wp-2.js": 'import { secret } from "@sealkit/runtime";\nimport { db } from "./wp-shared.js";\nexport const read = async () => ({ db: await db(), token: await secret("token") });\n',
    });
    const out = join(p.dir, `out-split-${name}`);
    await compile({
      mode: "production",
      target: "node",
      context: p.dir,
      entry: { e1: "./src/wp-1.js", e2: "./src/wp-2.js" },
      output: { path: out, filename: "[name].cjs", chunkFilename: "[name].chunk.cjs", library: { type: "commonjs2" } },
      optimization: { splitChunks: { chunks: "all", minSize: 0, cacheGroups: { shared: { test: /./, name: "shared", minChunks: 2, enforce: true } } } },
      plugins: [plugin(opts())],
    });
    const files = (await readdir(out)).filter((f) => f.endsWith(".cjs"));
    expect(files).toContain("shared.cjs");
    const all = (await Promise.all(files.map((f) => readFile(join(out, f), "utf8")))).join("\n");
    expect(all.match(/sealkit-key:1:/g)).toHaveLength(1);
    expect(all).not.toMatch(/:1:unused-secret:/);
    const read = (f: string) => runBundle(join(out, f), p.localKey);
    expect(read("e1.cjs")).toMatchObject({ first: { db: VALUES["db-password"], api: VALUES["api-key"] }, unwraps: 1 });
    expect(read("e2.cjs")).toMatchObject({ first: { db: VALUES["db-password"], token: VALUES.token }, unwraps: 1 });
    const m = JSON.parse(await readFile(join(out, "sealkit-manifest.json"), "utf8"));
    expect(m.outputs["e1.cjs"].stores[0].secrets).toEqual(["api-key", "db-password"]);
    expect(m.outputs["e2.cjs"].stores[0].secrets).toEqual(["db-password", "token"]);
    expect(m.outputs["shared.cjs"].stores[0].secrets).toEqual(["db-password"]);
  }, 60_000);
});
