#!/usr/bin/env node
/**
 * Plugin overhead: the same 2,000-module project (200 modules call `secret()`) built with
 * and without @sealkit/plugin, by esbuild, Rollup and Vite. Prints medians and ratios.
 *
 *   pnpm build && node bench/plugin-overhead.mjs [--runs 7] [--only esbuild,rollup,vite]
 *
 * Targets (docs/benchmarks.md): esbuild ≤ 1.25×, Vite/Rollup ≤ 1.1×.
 * The fixture lives in a temp dir whose node_modules links to bench/node_modules.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "7" }, only: { type: "string", default: "esbuild,rollup,vite" } },
});
const RUNS = Number(args.runs);
const ONLY = new Set(args.only.split(","));
const MODULES = 2000;
const CALLERS = 200;
const NAMES = 50;

process.env.SEALKIT_LOCAL_KEY = randomBytes(32).toString("base64");
const { initStore, setSecrets } = await import("@sealkit/store");
await import("@sealkit/envelope/local");
const { default: sealkitEsbuild } = await import("@sealkit/plugin/esbuild");
const { default: sealkitRollup } = await import("@sealkit/plugin/rollup");
const { default: sealkitVite } = await import("@sealkit/plugin/vite");

const dir = await mkdtemp(join(tmpdir(), "sealkit-overhead-"));
await symlink(join(here, "node_modules"), join(dir, "node_modules"), "dir");
const store = join(dir, "sealkit.secrets.json");
await initStore({ path: store, masterKeys: [{ provider: "local", keyRef: "local" }] });
await setSecrets(store, new Map(Array.from({ length: NAMES }, (_, i) => [`secret-${i}`, randomBytes(24)])));

/** One module: some ordinary code; every tenth one also reads a secret. */
function moduleSource(i, ts) {
  const calls = i % (MODULES / CALLERS) === 0;
  const t = (s) => (ts ? s : "");
  return [
    calls ? `import { secret } from "@sealkit/runtime";` : "",
    `export interface Row${i} { id: number; label: string; tags: string[] }`.replace(/^.*$/, ts ? "$&" : ""),
    `export function make${i}(n${t(": number")})${t(`: Row${i}[]`)} {`,
    `  const out${t(`: Row${i}[]`)} = [];`,
    `  for (let k = 0; k < n; k++) out.push({ id: k * ${i}, label: "row-" + k + "-${i}", tags: ["a", "b", String(k % 7)] });`,
    "  return out.filter((r) => r.id % 3 !== 1).map((r) => ({ ...r, label: r.label.toUpperCase() }));",
    "}",
    calls ? `export async function read${i}() { return secret("secret-${(i / (MODULES / CALLERS)) % NAMES}"); }` : `export async function read${i}() { return ${i}; }`,
    "",
  ].join("\n");
}

async function fixture(ext) {
  const src = join(dir, `src-${ext}`);
  await mkdir(src, { recursive: true });
  const ts = ext === "ts";
  for (let i = 0; i < MODULES; i++) await writeFile(join(src, `m${i}.${ext}`), moduleSource(i, ts));
  const imports = Array.from({ length: MODULES }, (_, i) => `import { make${i}, read${i} } from "./m${i}${ts ? "" : ".js"}";`);
  const body = `export async function handler() { let n = 0; ${Array.from({ length: MODULES }, (_, i) => `n += make${i}(2).length + Number(typeof (await read${i}()) === "string");`).join(" ")} return n; }`;
  await writeFile(join(src, `index.${ext}`), `${imports.join("\n")}\n${body}\n`);
  return join(src, `index.${ext}`);
}

const entryTs = await fixture("ts");
const entryJs = await fixture("js");
const quiet = { manifest: join(dir, "out", "manifest.json"), dts: false, root: dir };

const builders = {
  async esbuild(withPlugin) {
    const esbuild = await import("esbuild");
    await esbuild.build({
      entryPoints: [entryTs],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: join(dir, "out", "esbuild", "index.mjs"),
      logLevel: "silent",
      plugins: withPlugin ? [sealkitEsbuild(quiet)] : [],
    });
  },
  async rollup(withPlugin) {
    const { rollup } = await import("rollup");
    const b = await rollup({
      input: entryJs,
      external: [/^@sealkit\//],
      logLevel: "silent",
      plugins: withPlugin ? [sealkitRollup(quiet)] : [],
    });
    await b.write({ dir: join(dir, "out", "rollup"), format: "es" });
    await b.close();
  },
  async vite(withPlugin) {
    const { build } = await import("vite");
    await build({
      root: dir,
      configFile: false,
      logLevel: "silent",
      plugins: withPlugin ? [sealkitVite(quiet)] : [],
      build: { ssr: entryTs, outDir: join(dir, "out", "vite"), emptyOutDir: true, minify: false },
    });
  },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const results = [];
try {
  for (const [name, run] of Object.entries(builders)) {
    if (!ONLY.has(name)) continue;
    await run(false); // warm up both paths (module loading, JIT)
    await run(true);
    const plain = [];
    const plugged = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate so drift on a shared machine hits both sides alike.
      for (const withPlugin of i % 2 ? [true, false] : [false, true]) {
        const t0 = performance.now();
        await run(withPlugin);
        (withPlugin ? plugged : plain).push(performance.now() - t0);
      }
    }
    const r = { bundler: name, plainMs: median(plain), pluginMs: median(plugged) };
    r.ratio = r.pluginMs / r.plainMs;
    results.push(r);
    console.log(`${name.padEnd(8)} plain ${r.plainMs.toFixed(0).padStart(6)} ms   plugin ${r.pluginMs.toFixed(0).padStart(6)} ms   ratio ${r.ratio.toFixed(3)}×`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ modules: MODULES, callers: CALLERS, runs: RUNS, node: process.version, results }));
