#!/usr/bin/env node
/**
 * `pnpm bench`: every benchmark of docs/benchmarks.md in one run, against the peers, on one
 * local AWS KMS server (127.0.0.1 only). Prints Markdown tables and the DESIGN.md targets,
 * and writes bench/results/latest.json (+ latest.md). Leaves no process behind: children
 * are killed and servers closed on every exit path.
 *
 *   pnpm bench                      full run (< 15 min on 2 cores)
 *   BENCH_QUICK=1 pnpm bench        fewer runs and smaller fleets (writes results/quick.*)
 *   BENCH_ONLY=cold,warm pnpm bench a subset: size, cold, warm, faults, fleet, rekey, plugin
 *   BENCH_RESULTS=path.json         where to write the results
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import * as cold from "./cold-start.mjs";
import * as faults from "./faults.mjs";
import * as fleet from "./fleet.mjs";
import { QUICK, SMOKE, createContext, runNode } from "./lib/context.mjs";
import { BENCH_DIR, ROOT } from "./lib/fixtures.mjs";
import { printTable } from "./lib/report.mjs";
import { round } from "./lib/stats.mjs";
import * as rekey from "./rekey.mjs";
import * as size from "./size.mjs";
import * as warm from "./warm.mjs";

const SECTIONS = ["size", "cold", "warm", "faults", "fleet", "rekey", "plugin"];
const only = new Set((process.env.BENCH_ONLY || (SMOKE ? "size,cold,warm,faults,fleet,rekey" : SECTIONS.join(","))).split(","));
const mode = SMOKE ? "smoke" : QUICK ? "quick" : "full";
const out = process.env.BENCH_RESULTS || join(BENCH_DIR, "results", mode === "full" ? "latest.json" : `${mode}.json`);

function machine() {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a checkout
  }
  return {
    nproc: cpus().length,
    cpu,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    loadAvgAtStart: loadavg().map((x) => round(x, 2)),
    commit,
  };
}

async function pluginOverhead() {
  // esbuild and Vite builds take ~0.3 s and their ratios sit near the targets: 21 pairs (5
  // pairs spread 1.15–1.42× for esbuild in one day's runs). Rollup's take ~3 s each and its
  // ratio is far from its target: 5 pairs.
  const plans = QUICK ? [["--runs", "1", "--only", "esbuild"]] : [["--runs", "21", "--only", "esbuild,vite"], ["--runs", "5", "--only", "rollup"]];
  const results = [];
  let last;
  for (const plan of plans) {
    const r = await runNode([join(BENCH_DIR, "plugin-overhead.mjs"), ...plan], { timeoutMs: 300_000 });
    if (!r.result?.results) return { error: `plugin-overhead.mjs ${plan.join(" ")} exited ${r.code}: ${r.stderr.slice(0, 300)}` };
    results.push(...r.result.results.map((x) => ({ ...x, pairs: r.result.runs })));
    last = r.result;
  }
  return { ...last, runs: undefined, results };
}

function pluginTable(res) {
  if (res.error) return res.error;
  return printTable(
    ["bundler", "pairs", "without plugin ms", "with plugin ms", "ratio (wall)", "ratio (CPU)"],
    res.results.map((r) => [r.bundler, r.pairs ?? "", Math.round(r.plainMs), Math.round(r.pluginMs), round(r.ratio, 3), round(r.cpuRatio, 3)]),
  );
}

/** Each DESIGN.md performance target, judged from this run's figures. */
function targets(r) {
  const t = [];
  const row = (lat, n, c) => r.cold?.rows.find((x) => x.latencyMs === lat && x.n === n && x.contender === c);
  if (r.cold) {
    const calls = r.cold.ns.map((n) => row(r.cold.latencies[0], n, "sealkit")?.calls);
    t.push({
      target: "key-service calls per cold start: 1 per store, whatever N",
      figure: `${calls.join(", ")} calls at N = ${r.cold.ns.join(", ")}`,
      met: calls.every((c) => c === 1),
      bench: "cold",
    });
    const lat = r.cold.latencies.includes(15) ? 15 : r.cold.latencies.at(-1);
    const n = r.cold.ns.includes(20) ? 20 : r.cold.ns.at(-1);
    const s = row(lat, n, "sealkit");
    const par = row(lat, n, "kms-parallel");
    const ser = row(lat, n, "kms-serial");
    if (s) {
      const budget = lat + 25;
      t.push({
        target: `cold start to N=${n} at ${lat} ms: time over bare Node ≤ one round trip + 25 ms (${budget} ms)`,
        figure: `${s.overBareMs} ms over bare (wall ${s.wallMs} ms, bare ${round(s.wallMs - s.overBareMs)} ms)`,
        met: s.overBareMs <= budget,
        bench: "cold",
      });
      t.push({
        target: `cold start to N=${n} at ${lat} ms: ≥ 5× less than one KMS Decrypt per secret`,
        figure: `${par?.vsSealkit}× vs parallel Decrypts, ${ser?.vsSealkit}× vs serial (time over bare)`,
        met: (par?.vsSealkit ?? 0) >= 5 && (ser?.vsSealkit ?? 0) >= 5,
        bench: "cold",
      });
    }
  }
  if (r.warm) {
    const s = r.warm.rows.find((x) => x.contender === "sealkit");
    const f = r.warm.rows.find((x) => x.contender === "floor-crypto");
    t.push({
      target: "warm secret() read, 256-byte value: ≤ 1.5× a bare node:crypto AES-256-GCM decrypt",
      figure: `${s?.vsCryptoFloor}× (${s?.nsPerRead} ns vs ${s?.floorNsPerRead} ns, median of per-round ratios in the same process; method check: floor vs itself ${f?.vsCryptoFloor}×)`,
      met: (s?.vsCryptoFloor ?? Number.POSITIVE_INFINITY) <= 1.5,
      bench: "warm",
    });
  }
  if (r.faults) {
    const n = Math.max(...r.faults.rows.map((x) => x.n));
    const s = r.faults.rows.find((x) => x.n === n && x.contender === "sealkit");
    const peers = r.faults.rows.filter((x) => x.n === n && x.contender !== "sealkit");
    t.push({
      target: `survival at 30 % throttling, N = ${n}: all values in 5 of 5 cold starts`,
      figure: `Sealkit ${s?.allValues}/${s?.starts}; peers ${peers.map((p) => `${p.contender} ${p.allValues}/${p.starts}`).join(", ")}`,
      met: s?.allValues === s?.starts && s?.starts >= 5,
      bench: "faults",
    });
  }
  if (r.plugin?.results) {
    for (const p of r.plugin.results) {
      const limit = p.bundler === "esbuild" ? 1.25 : 1.1;
      t.push({
        target: `plugin overhead, ${p.bundler}, 2,000 modules / 200 secret() calls: ≤ ${limit}×`,
        figure: `${round(p.ratio, 3)}× (${Math.round(p.plainMs)} → ${Math.round(p.pluginMs)} ms)`,
        met: p.ratio <= limit,
        bench: "plugin",
      });
    }
  }
  if (r.size) {
    const gz = r.size.runtime.portable.gzipBytes;
    t.push({
      target: "@sealkit/runtime + envelope, minified + gzipped, no provider SDK: ≤ 6 KB (6,144 B)",
      figure: `${gz} B portable entry (Node entry: ${r.size.runtime.node.gzipBytes} B)`,
      met: gz <= 6144,
      bench: "size",
    });
  }
  if (r.rekey) {
    const s = r.rekey.rows.filter((x) => x.what.startsWith("sealkit") || x.what.startsWith("rekeyStore"));
    t.push({
      target: `sealkit rekey of a ${r.rekey.secrets}-secret store: calls per master key, not per secret`,
      figure: s.map((x) => `${x.calls} calls (${Object.entries(x.byOp).map(([k, v]) => `${k} ${v}`).join(", ")})`).join("; "),
      met: s.length > 0 && s.every((x) => x.ok && x.calls <= 4),
      bench: "rekey",
    });
  }
  return t;
}

function markdown(r) {
  const m = r.machine;
  const parts = [
    `# Sealkit benchmarks: ${r.mode} run`,
    "",
    `${r.date}, \`${r.command}\`, commit ${m.commit}. ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB memory, Node ${m.node}; load average ${m.loadAvgAtStart.join(" / ")} at start, ${r.loadAvgAtEnd.join(" / ")} at end; ${round(r.totalS, 0)} s in all.`,
  ];
  if (r.targets.length) {
    parts.push(
      "",
      "## DESIGN.md targets",
      "",
      printTable(
        ["target", "figure", "met?", "benchmark"],
        r.targets.map((x) => [x.target, x.figure, x.met ? "met" : "**missed**", x.bench]),
      ),
    );
  }
  const sec = (title, body) => parts.push("", `## ${title}`, "", body);
  if (r.size) sec("Size", size.table(r.size));
  if (r.cold) sec(`Cold start (medians of ${r.cold.runs} fresh processes)`, cold.table(r.cold));
  if (r.warm) sec(`Warm read (N = ${r.warm.n}, medians of ${r.warm.runs} processes, ${r.warm.warmMs} ms loops)`, warm.table(r.warm));
  if (r.faults) sec(`Faults (${r.faults.throttleRate * 100} % throttled, ${r.faults.latencyMs} ms latency)`, faults.table(r.faults));
  if (r.fleet)
    sec(
      `Fleet fan-out (${r.fleet.starts} simulated cold starts, N = ${r.fleet.n}, quota ${r.fleet.quotaRps} req/s, ${r.fleet.workers} workers × ${r.fleet.concurrency}, ${r.fleet.budgetS} s budget)`,
      fleet.table(r.fleet),
    );
  if (r.rekey) sec(`Rekey (${r.rekey.secrets} secrets, ${r.rekey.latencyMs} ms latency)`, rekey.table(r.rekey));
  if (r.plugin) sec("Plugin overhead (bench/plugin-overhead.mjs)", pluginTable(r.plugin));
  if (r.notes.length) sec("Notes", r.notes.map((n) => `- ${n}`).join("\n"));
  if (r.errors.length) sec("Errors", r.errors.map((n) => `- ${n}`).join("\n"));
  return `${parts.join("\n")}\n`;
}

const started = performance.now();
const result = {
  mode,
  date: new Date().toISOString(),
  command: SMOKE ? "BENCH_SMOKE=1 node bench/run.mjs" : QUICK ? "BENCH_QUICK=1 pnpm bench" : "pnpm bench",
  machine: machine(),
  notes: [],
  errors: [],
};
const ctx = await createContext({ maxN: SMOKE ? 2 : 100 });
const section = async (name, fn) => {
  if (!only.has(name)) return;
  const t0 = performance.now();
  process.stderr.write(`bench: ${name}…\n`);
  try {
    result[name] = await fn();
  } catch (e) {
    result.errors.push(`${name}: ${String(e?.message ?? e).slice(0, 300)}`);
  }
  process.stderr.write(`bench: ${name} done in ${round((performance.now() - t0) / 1000, 1)} s\n`);
};
let sealkitVia = [];
try {
  await section("size", () => size.run(ctx));
  await section("cold", () => cold.run(ctx));
  await section("warm", () => warm.run(ctx));
  // Before the fault and fleet sections: their bursts of processes leave the machine loaded
  // (load average 4–5 on 2 cores) for a minute, which skews the build-time ratios.
  await section("plugin", () => pluginOverhead());
  await section("faults", () => faults.run(ctx));
  await section("fleet", () => fleet.run(ctx));
  await section("rekey", () => rekey.run(ctx));
  sealkitVia = await ctx.sealkitVia();
} finally {
  await ctx.close();
}
for (const via of sealkitVia) if (via !== "plugin") result.notes.push(`Sealkit bundles were not built by the plugin: ${via}.`);
if (!ctx.smThrottledByServer) {
  result.notes.push(
    "The local server throttles KMS operations only; Secrets Manager reads (Powertools) went through bench/lib/sm-proxy.mjs, which applies the same throttle rate and quota.",
  );
}
if (result.cold) delete result.cold.samples;
result.loadAvgAtEnd = loadavg().map((x) => round(x, 2));
result.totalS = (performance.now() - started) / 1000;
result.targets = targets(result);
const md = markdown(result);
mkdirSync(join(out, ".."), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(out.replace(/\.json$/, ".md"), md);
process.stdout.write(md);
process.stderr.write(`bench: results in ${out}\n`);
process.exit(result.errors.length ? 1 : 0);
