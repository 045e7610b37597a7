/**
 * A fleet worker: many simulated cold starts of one contender in this process, `concurrency`
 * at a time. Each simulated cold start has its own fresh instance of the function bundle
 * (a new module URL, so all module state is new: SDK clients and their connections, caches,
 * Sealkit's runtime state and provider registry, whose realm-wide globals are dropped before
 * each import) and calls its handler for the N values. Code loading is not part of the
 * figure (the cold-start benchmark measures it): the instances are imported before the start
 * signal, and the code of the two AWS SDK clients and of the Encryption SDK, which the fleet
 * bundles keep external, is shared. The fleet figure is about the key service's quota.
 *
 * It prints `{"loaded":1}` when its instances are imported and waits for `go <epoch ms>` on
 * stdin (the parent sends it once every worker is loaded). No new cold start begins later
 * than `budget` ms after the start; those not begun are reported as not started.
 *
 *   node bench/child/fleet.mjs <bundle.mjs> <count> <concurrency> <n> <sha256> <budget ms>
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [bundle, countText, concText, nText, expected, budgetText] = process.argv.slice(2);
const budgetMs = Number(budgetText);
const count = Number(countText);
const concurrency = Number(concText);
const n = Number(nText);
const require = createRequire(new URL("../package.json", import.meta.url));
for (const m of ["@aws-sdk/client-kms", "@aws-sdk/client-secrets-manager", "@aws-crypto/client-node"]) await import(pathToFileURL(require.resolve(m)).href);

/**
 * Fresh module instances, imported one after another before the start signal, each against
 * clean realm-wide globals (Sealkit keeps its runtime state and provider registry under
 * `Symbol.for("sealkit.…")`, captured when the module is evaluated).
 */
const instances = [];
for (let i = 0; i < count; i++) {
  for (const s of Object.getOwnPropertySymbols(globalThis)) {
    if (s.description?.startsWith("sealkit.")) delete globalThis[s];
  }
  instances.push(await import(`${pathToFileURL(bundle).href}?start=${i}`));
}
const loadedAt = Date.now();

// Ready: the parent answers, once every worker is, with the start time ("go <epoch ms>").
process.stdout.write('{"loaded":1}\n');
const startAt = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (d) => {
    text += d;
    const m = /go (\d+)/.exec(text);
    if (m) resolve(Number(m[1]));
  });
});
process.stdin.pause();
const stopAt = startAt + budgetMs;
const wait = startAt - Date.now();
if (wait > 0) await new Promise((r) => setTimeout(r, wait));

const results = [];
let next = 0;
async function lane() {
  while (next < count && Date.now() < stopAt) {
    const i = next++;
    const t0 = performance.now();
    try {
      const values = await instances[i].handler();
      const ok = values.length === n && createHash("sha256").update(values.join("\n")).digest("hex") === expected;
      results.push({ ok, ms: performance.now() - t0, error: ok ? undefined : "E_WRONG_VALUES" });
    } catch (e) {
      let error = String(e?.code ?? e?.name ?? "Error");
      if (process.env.BENCH_DEBUG === "1") error += `: ${e?.message} <- ${e?.cause?.name}: ${e?.cause?.message}`;
      results.push({ ok: false, ms: performance.now() - t0, error });
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, lane));
const errors = {};
for (const r of results) if (r.error) errors[r.error] = (errors[r.error] ?? 0) + 1;
process.stdout.write(
  `${JSON.stringify({
    started: results.length,
    ok: results.filter((r) => r.ok).length,
    errors,
    endedAt: Date.now(),
    startAt,
    loadedAt,
    ms: results.map((r) => Math.round(r.ms)),
  })}\n`,
);
process.exit(0);
