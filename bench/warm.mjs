/**
 * Warm read: after a cold start, one secret read in a loop for BENCH_WARM_MS, in the same
 * process, per contender; against two floors measured in the same run: a bare node:crypto
 * AES-256-GCM decrypt of a 256-byte value (sync, nothing else) and a `process.env` read.
 * Each read is done the way the library serves it: `await secret(name)` for Sealkit (it
 * holds no plaintext, so every read opens the value), `await getSecret(name)` for Powertools
 * (its cache), a Map lookup of the plaintext the per-secret peers keep in memory.
 * `floor-crypto-async` (the same decrypt inside an async function, decoded to a string)
 * shows how much of Sealkit's figure any promise-returning text API would pay.
 *
 *   node bench/warm.mjs
 */
import { CONTENDERS } from "./lib/contenders.mjs";
import { QUICK, SMOKE, createContext } from "./lib/context.mjs";
import { isMain, printTable } from "./lib/report.mjs";
import { median, ratio, round } from "./lib/stats.mjs";

export const config = () => ({ runs: SMOKE ? 1 : QUICK ? 2 : 5, n: SMOKE ? 2 : 20, warmMs: SMOKE ? 100 : QUICK ? 300 : 1000 });

export async function run(ctx, { runs, n, warmMs } = config()) {
  const contenders = [...CONTENDERS.filter((c) => c !== "kms-serial"), "floor-crypto", "floor-crypto-async", "floor-env"];
  ctx.configure({ latencyMs: 0 });
  const samples = [];
  for (let r = 0; r < runs; r++) {
    for (const c of contenders) {
      const floor = c.startsWith("floor-");
      const s = await ctx.coldStart(c, floor ? 0 : n, { warmMs });
      samples.push({ contender: c, run: r, ok: s.ok, nsPerRead: s.warm?.nsPerRead });
    }
  }
  const ns = (c) => median(samples.filter((s) => s.contender === c).map((s) => s.nsPerRead));
  const crypto = ns("floor-crypto");
  const rows = contenders.map((c) => ({
    contender: c,
    ok: samples.filter((s) => s.contender === c && s.ok).length,
    runs,
    nsPerRead: round(ns(c), 0),
    readsPerSec: ns(c) ? Math.round(1e9 / ns(c)) : undefined,
    vsCryptoFloor: round(ratio(ns(c), crypto), 2),
  }));
  return { runs, n, warmMs, rows };
}

export function table(res) {
  return printTable(
    ["contender", "ok", "ns/read", "reads/s", "× node:crypto decrypt"],
    res.rows.map((r) => [r.contender, `${r.ok}/${r.runs}`, r.nsPerRead, r.readsPerSec?.toLocaleString("en-US"), r.vsCryptoFloor]),
  );
}

if (isMain(import.meta.url)) {
  const ctx = await createContext();
  try {
    console.log(table(await run(ctx)));
  } finally {
    await ctx.close();
  }
}
