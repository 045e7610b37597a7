/**
 * Faults: the key service throttles 30 % of requests (KMS on the server; Secrets Manager
 * reads through the pass-through when the server does not). Five cold starts per contender
 * and N, fresh processes, each contender with its default retry policy (AWS SDK v3:
 * standard mode, 3 attempts; Sealkit: its runtime's policy). Reports how many cold starts
 * got all their values, and the calls and throttled calls (every throttled call that is
 * followed by another is a retry).
 *
 *   node bench/faults.mjs
 */
import { CONTENDERS } from "./lib/contenders.mjs";
import { QUICK, SMOKE, runStandalone } from "./lib/context.mjs";
import { printTable } from "./lib/report.mjs";
import { median, sum } from "./lib/stats.mjs";

export const config = () => ({
  starts: SMOKE ? 1 : 5,
  ns: SMOKE ? [2] : QUICK ? [20, 100] : [1, 20, 100],
  throttleRate: 0.3,
  latencyMs: 15,
});

export async function run(ctx, { starts, ns, throttleRate, latencyMs } = config()) {
  const rows = [];
  for (const n of ns) {
    for (const c of CONTENDERS) await ctx.bundle(c, n);
    const samples = [];
    ctx.configure({ latencyMs, throttleRate });
    try {
      for (let i = 0; i < starts; i++) {
        for (const c of CONTENDERS) samples.push({ contender: c, ...(await ctx.coldStart(c, n)) });
      }
    } finally {
      ctx.configure({});
    }
    for (const c of CONTENDERS) {
      const ss = samples.filter((s) => s.contender === c);
      rows.push({
        n,
        contender: c,
        allValues: ss.filter((s) => s.ok).length,
        starts: ss.length,
        calls: sum(ss.map((s) => s.calls)),
        throttled: sum(ss.map((s) => s.throttled)),
        errors: [...new Set(ss.map((s) => s.error).filter(Boolean))],
        medianWallMs: Math.round(median(ss.map((s) => s.wallMs))),
      });
    }
  }
  return { starts, throttleRate, latencyMs, rows };
}

export function table(res) {
  return printTable(
    ["N", "contender", "cold starts with all values", "calls (all starts)", "throttled", "median wall ms", "errors"],
    res.rows.map((r) => [r.n, r.contender, `${r.allValues}/${r.starts}`, r.calls, r.throttled, r.medianWallMs, r.errors]),
  );
}

await runStandalone(import.meta.url, run, table);
