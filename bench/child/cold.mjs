/**
 * One cold start in a fresh process: import a contender's function bundle, call its
 * handler, and check the N values against the expected SHA-256 digest (values are never
 * printed). Prints `{"ready":1}` the moment all values are in memory (the parent times
 * spawn → this line), then one JSON line of figures. With BENCH_WARM_MS > 0 it then times
 * warm reads of one secret for about that long, in rounds that alternate with the floor (a
 * bare node:crypto AES-256-GCM decrypt of a 256-byte value, in this same process), so the
 * ratio of each round is taken under the same machine load; it reports medians.
 *
 *   node bench/child/cold.mjs <bundle.mjs> <n> <sha256 hex>
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
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
if (ok && warmMs > 0) out.warm = await warmReads(fn.read, warmMs);
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);

/** The floor: one AES-256-GCM decrypt of 256 bytes (AAD as long as Sealkit's), nothing else. */
function floorRead() {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = Buffer.from(JSON.stringify(["sealkit/v1", "AAAAAAAAAAAAAAAAAAAAAA", 1, "s000"]));
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(Buffer.from(randomBytes(192).toString("base64url"))), c.final()]);
  const tag = c.getAuthTag();
  return () => {
    const d = createDecipheriv("aes-256-gcm", key, nonce);
    d.setAAD(aad);
    d.setAuthTag(tag);
    const head = d.update(ct);
    d.final();
    return head;
  };
}

async function timeReads(read, count) {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const r = read();
    const v = r && typeof r.then === "function" ? await r : r;
    sink += v.length;
  }
  const ms = performance.now() - t0;
  if (sink === 0 && count > 0) throw new Error("reads returned nothing");
  return (ms * 1e6) / count;
}

async function warmReads(read, warmMs) {
  const floor = floorRead();
  const batch = 2000;
  // Warm-up (JIT, caches), then rounds: A B, B A, ... until the time is up.
  await timeReads(read, batch);
  await timeReads(floor, batch);
  const rounds = [];
  const end = performance.now() + warmMs;
  for (let i = 0; performance.now() < end || rounds.length < 3; i++) {
    let a;
    let b;
    if (i % 2) {
      b = await timeReads(floor, batch);
      a = await timeReads(read, batch);
    } else {
      a = await timeReads(read, batch);
      b = await timeReads(floor, batch);
    }
    rounds.push({ a, b, ratio: a / b });
  }
  const med = (xs) => {
    const v = [...xs].sort((x, y) => x - y);
    const m = v.length >> 1;
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  };
  const nsPerRead = med(rounds.map((r) => r.a));
  return {
    rounds: rounds.length,
    nsPerRead,
    readsPerSec: 1e9 / nsPerRead,
    floorNsPerRead: med(rounds.map((r) => r.b)),
    vsFloor: med(rounds.map((r) => r.ratio)),
  };
}
