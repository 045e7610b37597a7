// Benchmark of @sealkit/runtime (built dist/): a warm read of a 256-byte secret against a bare
// node:crypto AES-256-GCM decrypt of the same bytes in the same run, and the import time of
// the runtime against an empty module. Run: `npx tsc -b packages/runtime && node bench/runtime-warm.mjs`
import { spawnSync } from "node:child_process";
import { createDecipheriv } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runtimeUrl = pathToFileURL(join(root, "packages/runtime/dist/node.js")).href;
const neutralUrl = pathToFileURL(join(root, "packages/runtime/dist/index.js")).href;
const envelopeUrl = pathToFileURL(join(root, "packages/runtime/node_modules/@sealkit/envelope/dist/index.js")).href;

const rt = await import(runtimeUrl);
const env = await import(envelopeUrl);

// A store under a toy provider (XOR), so no key service is involved: this measures reads.
env.registerProvider({
  id: "bench",
  async wrap(k) {
    return { wrapped: k.map((b) => b ^ 0x5a) };
  },
  async unwrap(w) {
    return w.map((b) => b ^ 0x5a);
  },
});
const storeId = env.newStoreId();
const dataKey = env.newDataKey();
const value = "x".repeat(200) + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"; // 256 bytes
const envelope = env.sealValue(dataKey, { storeId, generation: 1, name: "v256" }, value);
rt.register(
  env.encodeKeyRecord({
    version: 1,
    storeId,
    generation: 1,
    keys: [{ provider: "bench", keyRef: "k", wrapped: env.toBase64(dataKey.map((b) => b ^ 0x5a)), context: env.wrapContext(storeId, 1) }],
  }),
  { v256: env.encodeEnvelope(envelope) },
);
await rt.preload();

const key = Buffer.from(dataKey);
const nonce = envelope.nonce;
const ct = envelope.sealed.subarray(0, envelope.sealed.length - 16);
const tag = envelope.sealed.subarray(envelope.sealed.length - 16);
const aad = env.valueAad(envelope);
function bare() {
  const d = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(tag);
  const out = d.update(ct);
  d.final();
  return out;
}
if (bare().toString() !== value || (await rt.secret("v256")) !== value) throw new Error("wrong value");

const N = 20_000;
async function time(fn, isAsync) {
  const t0 = process.hrtime.bigint();
  if (isAsync) for (let i = 0; i < N; i++) await fn();
  else for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t0) / N; // ns per op
}
const cases = {
  bare: [bare, false],
  bareText: [() => bare().toString("utf8"), false],
  secretBytes: [() => rt.secretBytes("v256"), true],
  secret: [() => rt.secret("v256"), true],
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < 3; round++) for (const [fn, a] of Object.values(cases)) await time(fn, a); // warm-up
for (let round = 0; round < 15; round++) {
  for (const [k, [fn, a]] of Object.entries(cases)) samples[k].push(await time(fn, a));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
// The machine is shared: compare within each round (back-to-back), then take the median ratio.
const ratio = (a, b) => median(samples[a].map((x, i) => x / samples[b][i]));

// Import time: a fresh node process per sample, timing only the import itself.
const dir = mkdtempSync(join(tmpdir(), "sealkit-bench-"));
const empty = join(dir, "empty.mjs");
writeFileSync(empty, "export {};\n");
function importMs(url) {
  const code = `const t=performance.now();await import(${JSON.stringify(url)});process.stdout.write(String(performance.now()-t));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout);
}
// What a function ships: the runtime bundled (as the plugin's output would carry it).
const { build } = await import("esbuild");
const bundles = {};
for (const [k, entry, platform] of [["nodeBundle", "node.js", "node"], ["neutralBundle", "index.js", "neutral"]]) {
  bundles[k] = join(dir, `${k}.mjs`);
  await build({ entryPoints: [join(root, "packages/runtime/dist", entry)], bundle: true, minify: true, format: "esm", platform, outfile: bundles[k], logLevel: "error" });
}
const imp = { empty: [], node: [], neutral: [], nodeBundle: [], neutralBundle: [] };
for (let i = 0; i < 31; i++) {
  imp.empty.push(importMs(pathToFileURL(empty).href));
  imp.node.push(importMs(runtimeUrl));
  imp.neutral.push(importMs(neutralUrl));
  imp.nodeBundle.push(importMs(pathToFileURL(bundles.nodeBundle).href));
  imp.neutralBundle.push(importMs(pathToFileURL(bundles.neutralBundle).href));
}
const im = Object.fromEntries(Object.entries(imp).map(([k, v]) => [k, median(v)]));

const f = (ns) => `${(ns / 1000).toFixed(2)} µs`;
console.log(`machine: ${cpus()[0]?.model} x${cpus().length}, Node ${process.version}`);
console.log(`warm read, 256-byte value, median of 15 rounds x ${N}:`);
console.log(`  bare node:crypto decrypt       ${f(m.bare)}`);
console.log(`  secretBytes()                  ${f(m.secretBytes)}   ratio ${ratio("secretBytes", "bare").toFixed(2)} (median per-round ratio; target <= 1.5)`);
console.log(`  bare decrypt + utf8 decode     ${f(m.bareText)}`);
console.log(`  secret()                       ${f(m.secret)}   ratio ${ratio("secret", "bareText").toFixed(2)} vs decrypt+decode, ${ratio("secret", "bare").toFixed(2)} vs bare decrypt`);
console.log(`import time, median of 31 fresh processes (target: within 10 ms of an empty module):`);
const row = (label, k) => console.log(`  ${label.padEnd(40)} ${im[k].toFixed(2)} ms  (+${(im[k] - im.empty).toFixed(2)} ms)`);
console.log(`  ${"empty module".padEnd(40)} ${im.empty.toFixed(2)} ms`);
row("bundled, node entry (what ships)", "nodeBundle");
row("bundled, neutral entry", "neutralBundle");
row("unbundled dist, node entry (tsx/node)", "node");
row("unbundled dist, neutral entry", "neutral");
