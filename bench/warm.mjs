/**
 * Warm read: after a cold start, one secret read in a loop for BENCH_WARM_MS, in the same
 * process, per contender, in rounds alternating with the floor, a bare node:crypto
 * AES-256-GCM decrypt of a 256-byte value (sync, nothing else), timed in that same process
 * (child/cold.mjs): the ratio is the median of per-round ratios, so machine load hits both
 * sides alike. `floor-crypto` as a contender checks the method (its ratio should be ~1);
 * `floor-env` is a `process.env` read.
 * Each read is done the way the library serves it: `await secret(name)` for Sealkit (it
 * holds no plaintext, so every read opens the value), `await getSecret(name)` for Powertools
 * (its cache), a Map lookup of the plaintext the per-secret peers keep in memory.
 * `floor-crypto-async` (the same decrypt inside an async function, decoded to a string)
 * shows how much of Sealkit's figure any promise-returning text API would pay.
 *
 *   node bench/warm.mjs
 */
import { CONTENDERS } from "./lib/contenders.mjs";
import { QUICK, SMOKE, runStandalone } from "./lib/context.mjs";
import { printTable } from "./lib/report.mjs";
import { median, round } from "./lib/stats.mjs";

export const config = () => ({ runs: SMOKE ? 1 : QUICK ? 2 : 5, n: SMOKE ? 2 : 20, warmMs: SMOKE ? 100 : QUICK ? 300 : 1000 });

export async function run(ctx, { runs, n, warmMs } = config()) {
  const contenders = [...CONTENDERS.filter((c) => c !== "kms-serial"), "floor-crypto", "floor-crypto-async", "floor-env"];
  ctx.configure({ latencyMs: 0 });
  const samples = [];
  for (let r = 0; r < runs; r++) {
    for (const c of contenders) {
      const floor = c.startsWith("floor-");
      const s = await ctx.coldStart(c, floor ? 0 : n, { warmMs });
      samples.push({ contender: c, run: r, ok: s.ok, nsPerRead: s.warm?.nsPerRead, floorNs: s.warm?.floorNsPerRead, vsFloor: s.warm?.vsFloor });
    }
  }
  const med = (c, k) => median(samples.filter((s) => s.contender === c).map((s) => s[k]));
  const rows = contenders.map((c) => ({
    contender: c,
    ok: samples.filter((s) => s.contender === c && s.ok).length,
    runs,
    nsPerRead: round(med(c, "nsPerRead"), 0),
    readsPerSec: med(c, "nsPerRead") ? Math.round(1e9 / med(c, "nsPerRead")) : undefined,
    floorNsPerRead: round(med(c, "floorNs"), 0),
    vsCryptoFloor: round(med(c, "vsFloor"), 2),
  }));
  return { runs, n, warmMs, rows };
}

export function table(res) {
  return printTable(
    ["contender", "ok", "ns/read", "reads/s", "bare decrypt, same process, ns", "× bare decrypt (median of rounds)"],
    res.rows.map((r) => [r.contender, `${r.ok}/${r.runs}`, r.nsPerRead, r.readsPerSec?.toLocaleString("en-US"), r.floorNsPerRead, r.vsCryptoFloor]),
  );
}

await runStandalone(import.meta.url, run, table);
