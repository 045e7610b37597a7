/**
 * Every build error through every bundler's own error channel: an unknown name, a
 * non-literal argument, a missing store and a corrupt store, each built for real with
 * esbuild, Vite 8, Rollup, webpack and Rspack. Each error must carry its message, the file,
 * the line and the column of the offending argument, and never a secret value.
 *
 * Columns follow each bundler's convention: esbuild, Rollup and Vite report 0-based columns
 * in structured fields; webpack and Rspack have no structured location for a loader error,
 * so the plugin writes `file:line:column` into the text, 1-based as editors expect.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { rspack } from "@rspack/core";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import sealkitRollup from "@sealkit/plugin/rollup";
import sealkitRspack from "@sealkit/plugin/rspack";
import sealkitVite from "@sealkit/plugin/vite";
import sealkitWebpack from "@sealkit/plugin/webpack";
import * as esbuild from "esbuild";
import { rollup } from "rollup";
import { createUnplugin } from "unplugin";
import { build as viteBuild } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import webpack from "webpack";
import { type Project, VALUES, makeProject } from "./_support.js";

/** What a bundler reported, reduced to what the user sees: the text and where it points. */
interface Reported {
  text: string;
  file: string;
  line: number;
  column: number;
}

interface PluginOptions {
  root: string;
  dts: false;
  store: string;
}

type Builder = (entry: string, out: string, options: PluginOptions) => Promise<Reported[]>;

/**
 * webpack and Rspack: the location is in the text, `E_CODE file:line:column: message` from a
 * loader, `Module not found: SealkitError: file:line:column: message` from a resolution.
 */
function fromText(message: string): Reported {
  const m = /(?:E_[A-Z_]+|SealkitError:) (\S+?):(\d+):(\d+): /.exec(message);
  if (!m) throw new Error(`no location in: ${message}`);
  return { text: message, file: m[1] as string, line: Number(m[2]), column: Number(m[3]) };
}

/** Both compilers take `(config, callback)`; their config types differ, so the call is untyped. */
type Compile = (config: never, callback: (err: Error | null, stats?: { toJson(o: object): { errors?: { message: string }[] } }) => void) => unknown;

function webpackLike(run: Compile, plugin: (o: PluginOptions) => unknown, swc: boolean, target = "node"): Builder {
  return (entry, out, options) =>
    new Promise((resolve, reject) => {
      run(
        {
          mode: "production",
          target,
          context: options.root,
          entry,
          output: { path: out },
          resolve: { extensions: [".ts", ".js"] },
          module: { rules: swc ? [{ test: /\.ts$/, loader: "builtin:swc-loader", options: { jsc: { parser: { syntax: "typescript" } } } }] : [] },
          plugins: [plugin(options)].flat() as never,
        } as never,
        (err, stats) => {
          if (err) return reject(err);
          try {
            resolve((stats?.toJson({ all: false, errors: true }).errors ?? []).map((e) => fromText(e.message)));
          } catch (e) {
            reject(e);
          }
        },
      );
    });
}

/** Rollup-style errors (Rollup, and Vite 8 wrapping Rolldown's in `errors`). */
function fromRollup(e: unknown): Reported[] {
  const list = ((e as { errors?: unknown[] }).errors ?? [e]) as { message: string; loc?: { file: string; line: number; column: number } }[];
  return list.map((x) => ({ text: x.message, file: x.loc?.file ?? "", line: x.loc?.line ?? 0, column: x.loc?.column ?? -1 }));
}

/**
 * Stands in for an auto-import plugin (unplugin-auto-import and the like): it adds
 * `import { secret } from "@sealkit/runtime"` to `auto.js`, whose source calls secret()
 * without importing it, after the Sealkit plugin has seen the source.
 */
const autoImport = createUnplugin(() => ({
  name: "fake-auto-import",
  enforce: "post" as const,
  transform: {
    filter: { id: /auto\.js$/ },
    handler: (code: string) => `import { secret } from "@sealkit/runtime";\n${code}`,
  },
}));

/** Stands in for a framework's single-file-component plugin: a `.vue` file whose text is already JavaScript. */
const fakeSfc = {
  name: "fake-sfc",
  load(id: string) {
    return id.endsWith(".vue") ? { code: readFileSync(id, "utf8"), moduleType: "js" } : undefined;
  },
};

const BUNDLERS: { name: string; columnBase: 0 | 1; build: Builder }[] = [
  {
    name: "esbuild",
    columnBase: 0,
    build: (entry, _out, options) =>
      esbuild
        .build({ entryPoints: [entry], bundle: true, platform: "node", write: false, logLevel: "silent", loader: { ".vue": "js" }, plugins: [sealkitEsbuild(options), autoImport.esbuild()] })
        .then(
          () => [],
          (e: esbuild.BuildFailure) =>
            e.errors.map((m) => ({ text: m.text, file: m.location?.file ?? "", line: m.location?.line ?? 0, column: m.location?.column ?? -1 })),
        ),
  },
  {
    name: "vite",
    columnBase: 0,
    build: (entry, out, options) =>
      viteBuild({ root: options.root, configFile: false, logLevel: "silent", plugins: [sealkitVite(options), fakeSfc, autoImport.vite()], build: { ssr: entry, outDir: out, write: false } }).then(
        () => [],
        fromRollup,
      ),
  },
  {
    name: "rollup",
    columnBase: 0,
    build: (entry, _out, options) =>
      rollup({ input: entry, external: [/^@sealkit\//], logLevel: "silent", plugins: [sealkitRollup(options), autoImport.rollup()] }).then(() => [], fromRollup),
  },
  {
    name: "webpack",
    columnBase: 1,
    build: webpackLike(webpack as unknown as Compile, (o) => [sealkitWebpack(o), autoImport.webpack()], false),
  },
  {
    name: "rspack",
    columnBase: 1,
    build: webpackLike(rspack as unknown as Compile, (o) => [sealkitRspack(o), autoImport.rspack()], true),
  },
];

const SOURCES = {
  "src/typo.ts": 'import { secret } from "@sealkit/runtime";\n\nexport const t = () =>\n  secret("db-pasword");\n',
  "src/dynamic.js": 'import { secret } from "@sealkit/runtime";\nexport const d = (n) => secret(n);\n',
  "src/lib-reexport.ts": 'export { secret } from "@sealkit/runtime";\n',
  "src/uses-lib.ts": 'import { secret } from "./lib-reexport.ts";\nexport const read = () => secret("db-password");\n',
  "src/entry-reexport.ts": 'import { secret } from "@sealkit/runtime";\nexport { secret };\nexport const read = () => secret("db-password");\n',
  "src/auto.js": 'export const read = () => secret("db-password");\n',
  "src/page.vue": 'import { secret } from "@sealkit/runtime";\nexport const read = () => secret("db-password");\n',
  "src/good.ts": 'import { secret } from "@sealkit/runtime";\nexport const g = async () =>\n  (await secret("db-password")).length;\n',
};

/** Each case: the entry, the store to use, what the message must say, and where it points. */
const CASES = [
  { error: "unknown name", entry: "src/typo.ts", store: "ok", says: ['no secret named "db-pasword"', 'did you mean "db-password"?'], at: [4, 9] },
  { error: "non-literal argument", entry: "src/dynamic.js", store: "ok", says: ["must be a string literal", "at build time"], at: [2, 31] },
  { error: "missing store", entry: "src/good.ts", store: "missing", says: ["no store file at", "nope.json", "sealkit init"], at: [3, 16] },
  { error: "corrupt store", entry: "src/good.ts", store: "corrupt", says: ["corrupt.json", "not valid JSON", "restore it from git"], at: [3, 16] },
  { error: "a file kind the plugin cannot scan", entry: "src/page.vue", store: "ok", says: ["finds secret() calls only in .ts", "exclude option"], at: [1, 24] },
  { error: "a runtime import another plugin added (auto-import)", entry: "src/auto.js", store: "ok", says: ["another build plugin added the import", 'Import secret from "@sealkit/runtime" in this file'], at: [1, 0] },
  { error: "secret re-exported by a module that is not an entry", entry: "src/uses-lib.ts", file: "lib-reexport.ts", store: "ok", says: ["secret is exported here for other modules to call"], at: [1, 9] },
] as const;

let p: Project;
let corrupt: string;
beforeAll(async () => {
  p = await makeProject();
  await p.write(SOURCES);
  corrupt = join(p.dir, "corrupt.json");
  await writeFile(corrupt, '{"sealkit": 1, "storeId": ');
});
afterAll(() => p.cleanup());

describe.each(BUNDLERS)("build errors through $name", (b) => {
  it.each(CASES)("$error: message, file, line and column", async (c) => {
    const store = c.store === "ok" ? p.store : c.store === "missing" ? join(p.dir, "nope.json") : corrupt;
    const out = join(p.dir, "out", b.name, c.entry.replace(/\W/g, "-"), c.store);
    const reported = await b.build(join(p.dir, c.entry), out, { root: p.dir, dts: false, store });
    expect(reported, "exactly one error, the plugin's").toHaveLength(1);
    const r = reported[0] as Reported;
    for (const s of c.says) expect(r.text).toContain(s);
    expect(r.file.endsWith("file" in c ? c.file : c.entry.slice(4)), r.file).toBe(true);
    expect({ line: r.line, column: r.column }).toEqual({ line: c.at[0], column: c.at[1] + b.columnBase });
    for (const v of Object.values(VALUES)) expect(r.text).not.toContain(v);
  }, 60_000);
});

describe.each([
  { name: "webpack", build: webpackLike(webpack as unknown as Compile, sealkitWebpack, false, "web") },
  { name: "rspack", build: webpackLike(rspack as unknown as Compile, sealkitRspack, true, "web") },
])("$name with target web", (b) => {
  it("refuses secret() in a browser-targeted bundle, at the call", async () => {
    const reported = await b.build(join(p.dir, "src/good.ts"), join(p.dir, "out", `${b.name}-web`), { root: p.dir, dts: false, store: p.store });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.text).toContain("browser-targeted bundle");
    expect(reported[0]?.text).toContain("allowBrowser");
    expect(reported[0]).toMatchObject({ line: 3, column: 17 });
  }, 60_000);
});

describe.each(BUNDLERS)("$name: an entry may export secret (for code outside the bundle)", (b) => {
  it("builds with no error", async () => {
    const reported = await b.build(join(p.dir, "src/entry-reexport.ts"), join(p.dir, "out", b.name, "entry-reexport"), { root: p.dir, dts: false, store: p.store });
    expect(reported).toEqual([]);
  }, 60_000);
});

describe("a file kind the plugin cannot scan, excluded by the user", () => {
  it("builds: the exclude option is the user's word that the file reads no secret", async () => {
    const reported = await (BUNDLERS[0] as (typeof BUNDLERS)[number]).build(join(p.dir, "src/page.vue"), join(p.dir, "out", "excluded"), {
      root: p.dir,
      dts: false,
      store: p.store,
      exclude: [/[\\/]node_modules[\\/]/, /\.vue$/],
    } as PluginOptions);
    expect(reported).toEqual([]);
  });
});
