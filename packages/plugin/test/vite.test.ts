/**
 * The Vite design (Vite 8, Rolldown inside): no hook while the module graph loads. The
 * runtime is aliased to a stand-in file, importers are scanned at buildEnd, and each chunk
 * starts by queuing just its own modules' envelopes. Built output is run in a fresh process.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import sealkit from "@sealkit/plugin/vite";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { type InlineConfig, build, createBuilder, createServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Project, VALUES, makeProject, runBundle } from "./_support.js";

let p: Project;

beforeAll(async () => {
  p = await makeProject();
  await p.write({
    "src/a.ts": 'import { secret } from "@sealkit/runtime";\nexport const read = async () => ({ db: await secret("db-password") });\n',
    "src/b.ts": [
      'import * as sk from "@sealkit/runtime";',
      'import { secret as s } from "@sealkit/runtime";',
      'export const read = async () => ({ api: await sk.secret("api-key"), again: await s("api-key") });',
      "",
    ].join("\n"),
    "src/c.cjs": 'const { secret } = require("@sealkit/runtime");\nexports.read = async () => ({ token: await secret("token") });\n',
    "src/d.ts": 'export { read } from "./c.cjs";\n',
    "src/lazy.ts": 'export const read = async () => (await import("./a")).read();\n',
    "src/typo.ts": 'import { secret } from "@sealkit/runtime";\n\nexport const read = () =>\n  secret("db-pasword");\n',
    "src/dynamic.js": 'import { secret } from "@sealkit/runtime";\nexport const read = (n) => secret(n);\n',
    "src/plain.ts": 'import { configure } from "@sealkit/runtime";\nexport const read = async () => { configure({}); return {}; };\n',
  });
});
afterAll(() => p.cleanup());

/** A server (SSR) build of `entries` into `out`; returns the output directory. */
async function ssrBuild(out: string, entries: Record<string, string>, extra: InlineConfig["build"] = {}, options = {}): Promise<string> {
  const outDir = join(p.dir, out);
  await build({
    root: p.dir,
    configFile: false,
    logLevel: "silent",
    plugins: [sealkit({ root: p.dir, dts: false, ...options })],
    ssr: { noExternal: true },
    build: {
      ssr: true,
      outDir,
      emptyOutDir: true,
      minify: false,
      ...extra,
      rollupOptions: { input: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(p.dir, v)])), ...extra.rollupOptions },
    },
  });
  return outDir;
}

function run(file: string): { first: Record<string, string>; unwraps: number } {
  return runBundle(file, p.localKey);
}

async function outputs(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".js") || f.endsWith(".mjs"));
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(dir, f), "utf8")] as const)));
}

/** Vite 8 (Rolldown) wraps a plugin's error: the first of `errors` carries loc, frame, plugin. */
async function buildError(pending: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const e = (await pending.then(
    () => undefined,
    (x) => x,
  )) as (Error & { errors?: Record<string, unknown>[] }) | undefined;
  if (!e) throw new Error("the build succeeded");
  return Object.assign(e, e.errors?.[0]);
}

const envelopeOf = (name: string) => new RegExp(`sealkit:1:[^:"]+:1:${name.replace(/[.-]/g, "\\$&")}:`);

describe("Vite 8", () => {
  it("several entries: each chunk carries only its own envelopes, the bundle one data-key record, and every entry runs", async () => {
    const dir = await ssrBuild("out-multi", { a: "src/a.ts", b: "src/b.ts", d: "src/d.ts", lazy: "src/lazy.ts", plain: "src/plain.ts" });
    const files = await outputs(dir);
    const all = Object.values(files).join("\n");
    expect(all.match(/sealkit-key:1:/g)).toHaveLength(1);
    expect(all).not.toMatch(envelopeOf("unused-secret"));
    // each envelope once in the whole output, in the chunk of the module that reads it
    for (const name of ["db-password", "api-key", "token"]) expect(all.match(new RegExp(envelopeOf(name), "g"))).toHaveLength(1);
    expect(files["b.js"]).toMatch(envelopeOf("api-key"));
    expect(files["b.js"]).not.toMatch(envelopeOf("db-password"));
    expect(files["d.js"]).toMatch(envelopeOf("token"));
    expect(files["plain.js"]).not.toMatch(/sealkit:1:/);

    expect(run(join(dir, "a.js")).first).toEqual({ db: VALUES["db-password"] });
    expect(run(join(dir, "b.js"))).toMatchObject({ first: { api: VALUES["api-key"], again: VALUES["api-key"] }, unwraps: 1 });
    expect(run(join(dir, "d.js"))).toMatchObject({ first: { token: VALUES.token }, unwraps: 1 });
    // (the lazily loaded chunk registers the real provider after the runner's counting one)
    expect(run(join(dir, "lazy.js")).first).toEqual({ db: VALUES["db-password"] });
    expect(run(join(dir, "plain.js")).first).toEqual({});

    const manifest = JSON.parse(await readFile(join(dir, "sealkit-manifest.json"), "utf8"));
    expect(manifest.outputs["b.js"].stores[0].secrets).toEqual(["api-key"]);
    expect(manifest.outputs["d.js"].stores[0].secrets).toEqual(["token"]);
    expect(manifest.outputs["a.js"].stores[0].secrets).toEqual(["db-password"]);
    expect(manifest.outputs["lazy.js"].stores).toEqual([]); // it loads a.js, which is listed
    expect(manifest.outputs["plain.js"].stores).toEqual([]);
  });

  it("source maps stay exact below the queued envelopes that start the chunk", async () => {
    for (const minify of [false, true]) {
      const dir = await ssrBuild(`out-map-${minify}`, { b: "src/b.ts" }, { sourcemap: true, minify });
      const code = await readFile(join(dir, "b.js"), "utf8");
      const map = new TraceMap(JSON.parse(await readFile(join(dir, "b.js.map"), "utf8")));
      const lines = code.split("\n");
      const call = /[`'"]api-key[`'"]\)/; // a minifier may change the quotes
      const line = lines.findIndex((l) => call.test(l));
      const column = (lines[line] as string).search(call);
      const pos = originalPositionFor(map, { line: line + 1, column });
      expect(pos.source, `minify ${minify}`).toContain("b.ts");
      expect(pos, `minify ${minify}`).toMatchObject({ line: 3 });
      // the first "api-key" argument on line 3 of b.ts
      expect(pos.column, `minify ${minify}`).toBe('export const read = async () => ({ api: await sk.secret('.length);
    }
  });

  it("a runtime the user marks external stays external (as @sealkit/runtime/self), and the secrets still arrive", async () => {
    const dir = await ssrBuild("out-external", { b: "src/b.ts" }, { rollupOptions: { external: ["@sealkit/runtime"] } });
    const code = (await outputs(dir))["b.js"] as string;
    expect(code).toContain('from "@sealkit/runtime/self"');
    expect(code).not.toContain("function register(");
    expect(code.match(/sealkit-key:1:/g)).toHaveLength(1);
    expect(run(join(dir, "b.js"))).toMatchObject({ first: { api: VALUES["api-key"] }, unwraps: 1 });
  });

  it("refuses a user alias for @sealkit/runtime, which would bypass the stand-in, and says what to alias instead", async () => {
    const err = (await build({
      root: p.dir,
      configFile: false,
      logLevel: "silent",
      plugins: [sealkit({ root: p.dir, dts: false })],
      resolve: { alias: { "@sealkit/runtime": join(p.dir, "src/a.ts") } },
      build: { ssr: join(p.dir, "src/b.ts"), outDir: join(p.dir, "out-alias") },
    }).catch((e) => e)) as Error & { code?: string };
    expect(err.code).toBe("E_CONFIG");
    expect(err.message).toContain('alias "@sealkit/runtime/self" alone');
  });

  it("reports an unknown name through Vite's errors with file, line, column and frame", async () => {
    const err = await buildError(ssrBuild("out-typo", { typo: "src/typo.ts" }));
    expect(err.message).toContain('no secret named "db-pasword"');
    expect(err.message).toContain('did you mean "db-password"?');
    expect(err.plugin).toBe("sealkit");
    expect(err.pluginCode).toBe("E_BUILD");
    expect(err.loc).toMatchObject({ line: 4, column: 9 });
    expect(String((err.loc as { file: string }).file)).toContain("typo.ts");
    expect(err.frame).toContain('secret("db-pasword")');
  });

  it("reports a non-literal argument with its location", async () => {
    const err = await buildError(ssrBuild("out-dynamic", { dynamic: "src/dynamic.js" }));
    expect(err.message).toContain("must be a string literal");
    expect(err.loc).toMatchObject({ line: 2, column: "export const read = (n) => secret(".length });
  });

  it("refuses secret() in a client (browser) build unless allowBrowser is set", async () => {
    const client = (allowBrowser: boolean) =>
      build({
        root: p.dir,
        configFile: false,
        logLevel: "silent",
        plugins: [sealkit({ root: p.dir, dts: false, allowBrowser })],
        build: { outDir: join(p.dir, "out-client"), emptyOutDir: true, lib: { entry: join(p.dir, "src/a.ts"), formats: ["es"], fileName: "a" } },
      });
    const err = await buildError(client(false));
    expect(err.message).toContain("browser-targeted bundle");
    expect(err.loc).toMatchObject({ line: 2, column: "export const read = async () => ({ db: await secret(".length });
    await expect(client(true)).resolves.toBeDefined();
  });

  it("vite dev (serve) adds no alias: the runtime's development fallback reads the store", async () => {
    const server = await createServer({
      root: p.dir,
      configFile: false,
      logLevel: "silent",
      plugins: [sealkit({ root: p.dir, dts: false })],
      server: { middlewareMode: true, hmr: false, watch: null },
      appType: "custom",
    });
    const before = process.env.SEALKIT_STORE;
    process.env.SEALKIT_STORE = p.store;
    try {
      expect(server.config.resolve.alias.some((a) => String(a.find).includes("sealkit"))).toBe(false);
      const mod = await server.ssrLoadModule(join(p.dir, "src/b.ts"));
      expect(await mod.read()).toEqual({ api: VALUES["api-key"], again: VALUES["api-key"] });
    } finally {
      if (before === undefined) delete process.env.SEALKIT_STORE;
      else process.env.SEALKIT_STORE = before;
      await server.close();
    }
  });

  it("vite build --app: one plugin instance across the client and ssr environments", async () => {
    await p.write({ "index.html": '<!doctype html><script type="module" src="/src/client.js"></script>\n', "src/client.js": 'document.title = "app";\n' });
    const out = join(p.dir, "out-app");
    const builder = await createBuilder({
      root: p.dir,
      configFile: false,
      logLevel: "silent",
      plugins: [sealkit({ root: p.dir, dts: false })],
      ssr: { noExternal: true },
      environments: {
        client: { build: { outDir: join(out, "client") } },
        ssr: { build: { outDir: join(out, "server"), rollupOptions: { input: { b: join(p.dir, "src/b.ts") } } } },
      },
    });
    await builder.buildApp();
    const client = Object.values(await outputs(join(out, "client"))).join("\n");
    expect(client).not.toMatch(/sealkit:1:|sealkit-key:1:/);
    expect(run(join(out, "server/b.js"))).toMatchObject({ first: { api: VALUES["api-key"] }, unwraps: 1 });
    const manifest = JSON.parse(await readFile(join(out, "server/sealkit-manifest.json"), "utf8"));
    expect(manifest.outputs["b.js"].stores[0].secrets).toEqual(["api-key"]);
  });
});
