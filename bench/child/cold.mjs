/**
 * One cold start in a fresh process: import a contender's function bundle, call its
 * handler, and check the N values against the expected SHA-256 digest (values are never
 * printed). Prints `{"ready":1}` the moment all values are in memory (the parent times
 * spawn → this line), then one JSON line of figures. With BENCH_WARM_MS > 0 it then reads
 * one secret in a loop for that long and reports reads per second.
 *
 *   node bench/child/cold.mjs <bundle.mjs> <n> <sha256 hex>
 */
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const [bundle, nText, expected] = process.argv.slice(2);
const n = Number(nText);
const t0 = performance.now();
const fn = await import(pathToFileURL(bundle).href);
const t1 = performance.now();
let values;
let error;
try {
  values = await fn.handler();
} catch (e) {
  // Codes and class names only: no message, which some libraries fill with request data.
  error = String(e?.code ?? e?.name ?? "Error");
  // BENCH_DEBUG=1: the message and cause too (Sealkit and AWS messages name keys, never values).
  if (process.env.BENCH_DEBUG === "1") error += `: ${e?.message} <- ${e?.cause?.name}: ${e?.cause?.message}`;
}
const t2 = performance.now();
process.stdout.write('{"ready":1}\n');
const ok =
  Array.isArray(values) &&
  values.length === n &&
  (n === 0 || createHash("sha256").update(values.join("\n")).digest("hex") === expected);
const out = {
  ok,
  error: ok ? undefined : (error ?? (values ? "E_WRONG_VALUES" : "E_NO_VALUES")),
  importMs: t1 - t0,
  handlerMs: t2 - t1,
  // Since this process's time origin (its start), as Node measures it.
  doneMs: t2,
  startMs: t0,
};
values = undefined;

const warmMs = Number(process.env.BENCH_WARM_MS || 0);
if (ok && warmMs > 0) {
  let sink = 0;
  const once = fn.read;
  // Warm-up, so the loop measures the steady state (JIT, caches).
  for (let i = 0; i < 2000; i++) {
    const r = once();
    const v = r && typeof r.then === "function" ? await r : r;
    sink += v.length;
  }
  let reads = 0;
  const start = performance.now();
  const end = start + warmMs;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 1000; i++) {
      const r = once();
      const v = r && typeof r.then === "function" ? await r : r;
      sink += v.length;
    }
    reads += 1000;
    now = performance.now();
  }
  out.warm = { reads, ms: now - start, readsPerSec: (reads * 1000) / (now - start), nsPerRead: ((now - start) * 1e6) / reads, sink: sink > 0 };
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
