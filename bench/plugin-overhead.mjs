#!/usr/bin/env node
/**
 * Plugin overhead: the same 2,000-module project (200 modules call `secret()`) built with
 * and without @sealkit/plugin, by esbuild, Rollup and Vite.
 *
 *   pnpm build && node bench/plugin-overhead.mjs [--runs 15] [--warmup 2] [--only esbuild,rollup,vite] [--json file]
 *     [--plugin <dir>]   another build of the plugin (a directory holding its dist/), e.g. an
 *                        older commit compiled elsewhere, to compare designs on one machine state
 *
 * Method (the machine is shared, so wall time alone is not trusted):
 * - `--warmup` untimed builds of each kind first (module loading, JIT, OS file cache);
 * - then plain and plugin builds strictly alternate (A B A B …), so drift hits both alike;
 * - wall time and CPU time are taken per build. CPU is this process (`process.cpuUsage()`,
 *   which covers Rollup's and Rolldown's native threads) plus esbuild's service process
 *   (utime + stime from /proc, Linux only), i.e. work done, which load inflates far less
 *   than wall time;
 * - medians of each, the median of per-pair ratios (each plugin build against the plain
 *   build next to it), and the load average before and after each bundler.
 *
 * Targets (docs/benchmarks.md): esbuild ≤ 1.25×, Vite/Rollup ≤ 1.1×.
 * The fixture lives in a temp dir whose node_modules links to bench/node_modules.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    warmup: { type: "string", default: "2" },
    only: { type: "string", default: "esbuild,rollup,vite" },
    json: { type: "string" },
    plugin: { type: "string" },
  },
});
const RUNS = Number(args.runs);
const WARMUP = Number(args.warmup);
const ONLY = new Set(args.only.split(","));
const MODULES = 2000;
const CALLERS = 200;
const NAMES = 50;

process.env.SEALKIT_LOCAL_KEY = randomBytes(32).toString("base64");
const { initStore, setSecrets } = await import("@sealkit/store");
await import("@sealkit/envelope/local");
const entry = (name) => (args.plugin ? pathToFileURL(join(resolve(args.plugin), "dist", `${name}.js`)).href : `@sealkit/plugin/${name}`);
const { default: sealkitEsbuild } = await import(entry("esbuild"));
const { default: sealkitRollup } = await import(entry("rollup"));
const { default: sealkitVite } = await import(entry("vite"));

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

const esbuild = ONLY.has("esbuild") ? await import("esbuild") : undefined;
const builders = {
  async esbuild(withPlugin) {
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

/** CPU seconds (user + system) of the child processes of this one: esbuild's service. */
const TICK = 100; // USER_HZ on Linux
function childCpuMs() {
  let ms = 0;
  try {
    for (const t of readdirSync("/proc/self/task")) {
      const kids = readFileSync(`/proc/self/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      for (const pid of kids) {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ms += ((Number(f[11]) + Number(f[12])) * 1000) / TICK; // utime, stime (fields 14, 15)
      }
    }
  } catch {
    return Number.NaN;
  }
  return ms;
}
function cpuNow() {
  const u = process.cpuUsage();
  return { self: (u.user + u.system) / 1000, child: childCpuMs() };
}

const median = (xs) => {
  const s = [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

async function timed(run, withPlugin) {
  const c0 = cpuNow();
  const t0 = performance.now();
  await run(withPlugin);
  const wall = performance.now() - t0;
  const c1 = cpuNow();
  return { wall, cpu: c1.self - c0.self + (c1.child - c0.child), cpuNode: c1.self - c0.self };
}

const results = [];
console.log(`plugin ${args.plugin ?? "@sealkit/plugin"}; node ${process.version}, ${MODULES} modules (${CALLERS} call secret()), ${RUNS} pairs after ${WARMUP} warm-up pairs`);
try {
  for (const [name, run] of Object.entries(builders)) {
    if (!ONLY.has(name)) continue;
    const loadBefore = load();
    for (let i = 0; i < WARMUP; i++) {
      await run(false);
      await run(true);
    }
    const plain = [];
    const plugged = [];
    for (let i = 0; i < RUNS; i++) {
      // A B A B …: each plugin build follows the plain build it is compared with.
      plain.push(await timed(run, false));
      plugged.push(await timed(run, true));
    }
    const pick = (xs, k) => xs.map((x) => x[k]);
    const r = {
      bundler: name,
      plainMs: median(pick(plain, "wall")),
      pluginMs: median(pick(plugged, "wall")),
      ratio: median(plain.map((p, i) => plugged[i].wall / p.wall)),
      plainCpuMs: median(pick(plain, "cpu")),
      pluginCpuMs: median(pick(plugged, "cpu")),
      cpuRatio: median(plain.map((p, i) => plugged[i].cpu / p.cpu)),
      nodeCpuExtraMs: median(plain.map((p, i) => plugged[i].cpuNode - p.cpuNode)),
      loadBefore,
      loadAfter: load(),
    };
    results.push(r);
    const f = (x) => x.toFixed(0).padStart(6);
    console.log(
      `${name.padEnd(8)} wall ${f(r.plainMs)} → ${f(r.pluginMs)} ms  ratio ${r.ratio.toFixed(3)}×  |  cpu ${f(r.plainCpuMs)} → ${f(r.pluginCpuMs)} ms  ratio ${r.cpuRatio.toFixed(3)}×  |  load ${r.loadBefore} → ${r.loadAfter}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const summary = { plugin: args.plugin ?? "@sealkit/plugin", modules: MODULES, callers: CALLERS, runs: RUNS, warmup: WARMUP, node: process.version, date: new Date().toISOString(), results };
console.log(JSON.stringify(summary));
if (args.json) await writeFile(args.json, `${JSON.stringify(summary, null, 2)}\n`);
