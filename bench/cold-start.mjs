/**
 * Cold start: fresh Node processes, each importing one contender's function bundle and
 * getting all N values. Figures per (latency, N, contender), medians over the runs: the
 * wall time from spawn to "all values in memory", the time over a bare Node process (median
 * of per-round differences), the bundle's import time, and the key-service calls. Contenders run interleaved, round by
 * round, so machine noise spreads over all of them. `sealkit-lean` is Sealkit's bundle
 * without @aws-sdk/client-kms in it (see lib/fixtures.mjs), not a peer.
 *
 *   node bench/cold-start.mjs            (BENCH_QUICK=1 for fewer runs)
 */
import { CONTENDERS } from "./lib/contenders.mjs";
import { QUICK, SMOKE, runStandalone } from "./lib/context.mjs";
import { median, ratio, round } from "./lib/stats.mjs";
import { printTable } from "./lib/report.mjs";

export const config = () => ({
  runs: SMOKE ? 1 : QUICK ? 2 : 9,
  ns: SMOKE ? [2] : [1, 20, 100],
  latencies: SMOKE ? [0] : [0, 15],
});

export async function run(ctx, { runs, ns, latencies } = config()) {
  const contenders = ["bare", ...CONTENDERS, "sealkit-lean"];
  const samples = [];
  for (const latencyMs of latencies) {
    ctx.configure({ latencyMs });
    for (const n of ns) {
      for (const c of contenders) await ctx.bundle(c, n);
      for (let r = 0; r < runs; r++) {
        for (const c of contenders) {
          const s = await ctx.coldStart(c, c === "bare" ? 0 : n);
          samples.push({ contender: c, latencyMs, n, run: r, ...s });
        }
      }
    }
  }
  ctx.configure({});
  const rows = [];
  for (const latencyMs of latencies) {
    for (const n of ns) {
      const pick = (c) => samples.filter((s) => s.contender === c && s.latencyMs === latencyMs && s.n === n);
      // Time over bare Node: per round, the contender's sample minus the bare sample of the
      // same round (taken moments before), then the median; pairing cancels slow drift.
      const bareOf = new Map(pick("bare").map((s) => [s.run, s]));
      const paired = (ss, k) => median(ss.map((s) => s[k] - (bareOf.get(s.run)?.[k] ?? Number.NaN)));
      const sealkit = paired(pick("sealkit"), "wallMs");
      for (const c of contenders) {
        const ss = pick(c);
        const wall = median(ss.map((s) => s.wallMs));
        const over = paired(ss, "wallMs");
        rows.push({
          latencyMs,
          n,
          contender: c,
          runs: ss.length,
          ok: ss.filter((s) => s.ok).length,
          errors: [...new Set(ss.map((s) => s.error).filter(Boolean))],
          wallMs: round(wall),
          overBareMs: c === "bare" ? 0 : round(over),
          doneMs: round(median(ss.map((s) => s.doneMs))),
          overBareInProcessMs: c === "bare" ? 0 : round(paired(ss, "doneMs")),
          importMs: round(median(ss.map((s) => s.importMs))),
          handlerMs: round(median(ss.map((s) => s.handlerMs))),
          calls: median(ss.map((s) => s.calls)),
          vsSealkit: c === "bare" || c.startsWith("sealkit") ? undefined : round(ratio(over, sealkit), 2),
        });
      }
    }
  }
  return { runs, ns, latencies, rows, samples };
}

export function table(res) {
  return printTable(
    ["latency", "N", "contender", "ok", "wall ms", "over bare ms", "import ms", "handler ms", "KMS/SM calls", "× Sealkit (over bare)"],
    res.rows.map((r) => [
      `${r.latencyMs} ms`,
      r.n,
      r.contender,
      `${r.ok}/${r.runs}`,
      r.wallMs,
      r.overBareMs,
      r.importMs,
      r.handlerMs,
      r.calls,
      r.vsSealkit ?? "",
    ]),
  );
}

await runStandalone(import.meta.url, run, table);
