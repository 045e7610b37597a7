/**
 * Fleet fan-out: 1,000 simulated cold starts of each contender against a key service that
 * accepts QUOTA requests per second (fixed 1 s windows; the rest are ThrottlingException),
 * at 15 ms latency. Cold starts run in W worker processes, C at a time in each (see
 * child/fleet.mjs for what a simulated cold start is). Reports cold starts that got all
 * their values, failures by code, key-service calls, throttled calls, and the time from the
 * start signal until every cold start had finished (with its values or failed). A contender
 * gets a time budget (BENCH_FLEET_BUDGET_S, default 60 s): cold starts not begun by then are
 * reported as not started, so one slow contender cannot stretch the whole run.
 *
 *   node bench/fleet.mjs
 */
import { CONTENDERS } from "./lib/contenders.mjs";
import { FLEET_CHILD, QUICK, SMOKE, runStandalone, runNode } from "./lib/context.mjs";
import { printTable } from "./lib/report.mjs";
import { median } from "./lib/stats.mjs";

export const config = () => ({
  starts: SMOKE ? 8 : QUICK ? 200 : 1000,
  workers: SMOKE ? 1 : 4,
  concurrency: SMOKE ? 4 : 25,
  n: SMOKE ? 2 : 20,
  quotaRps: 500,
  latencyMs: 15,
  budgetS: Number(process.env.BENCH_FLEET_BUDGET_S || (SMOKE ? 10 : QUICK ? 20 : 60)),
});

/**
 * Besides the main rows (every contender, `concurrency` lanes per worker), Sealkit runs as a
 * burst: all cold starts at once (starts / workers lanes each), the case of a real fleet,
 * where 1,000 functions send their one call within moments and the quota does bite; once
 * with the runtime's defaults and once with SEALKIT_ATTEMPTS=10. The peers are not run so:
 * 20,000 simultaneous connections exceed what the one local server accepts (resets).
 */
const BURSTS = [
  { label: "sealkit, burst (all at once)", env: {} },
  { label: "sealkit, burst, SEALKIT_ATTEMPTS=10", env: { SEALKIT_ATTEMPTS: "10" } },
];

export async function run(ctx, { starts, workers, concurrency, n, quotaRps, latencyMs, budgetS, bursts = SMOKE ? [] : BURSTS } = config()) {
  const rows = [];
  const contenders = [
    ...CONTENDERS.filter((c) => c !== "kms-serial").map((c) => ({ c, label: c, lanes: concurrency, env: {} })),
    ...bursts.map((b) => ({ c: "sealkit", label: b.label, lanes: Math.ceil(starts / workers), env: b.env })),
  ];
  for (const { c, label, lanes, env } of contenders) {
    const b = await ctx.bundle(c, n, { fleet: true });
    ctx.configure({ latencyMs, quotaRps });
    ctx.resetCounters();
    const per = Array.from({ length: workers }, (_, w) => Math.floor(starts / workers) + (w < starts % workers ? 1 : 0));
    // Each worker imports its instances, says so, and waits; all start together.
    const children = [];
    let loaded = 0;
    let startAt = Number.POSITIVE_INFINITY;
    const onSpawn = (child) => {
      children.push(child);
      child.stdin.on("error", () => {}); // a worker that died early
      let counted = false;
      const ready = () => {
        if (counted) return;
        counted = true;
        if (++loaded === per.length) {
          startAt = Date.now() + 200;
          for (const k of children) k.stdin.end(`go ${startAt}\n`);
        }
      };
      child.stdout.on("data", (d) => {
        if (String(d).includes('{"loaded"')) ready();
      });
      child.on("exit", ready); // so the others do not wait for a worker that crashed
    };
    let outs;
    try {
      outs = await Promise.all(
        per.map((count) =>
          runNode([FLEET_CHILD, b.file, String(count), String(lanes), String(n), ctx.fx.digest(n), String(budgetS * 1000)], {
            env: ctx.env(c, n, env),
            timeoutMs: 300_000,
            onSpawn,
          }),
        ),
      );
    } finally {
      ctx.configure({});
    }
    const calls = ctx.calls();
    const res = outs.map((o) => o.result ?? { started: 0, ok: 0, errors: { [o.timedOut ? "TIMEOUT" : `EXIT_${o.code}`]: 1 }, ms: [] });
    const errors = {};
    for (const r of res) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    const ok = res.reduce((a, r) => a + r.ok, 0);
    const started = res.reduce((a, r) => a + r.started, 0);
    rows.push({
      contender: label,
      lanes,
      starts,
      started,
      ok,
      failed: started - ok,
      errors,
      calls: calls.total,
      throttled: calls.throttled,
      allDoneS: Math.round((Math.max(...res.map((r) => r.endedAt ?? startAt)) - startAt) / 100) / 10,
      medianStartMs: median(res.flatMap((r) => r.ms)),
      // A worker still importing at the start signal would start late: reported, not hidden.
      lateWorkers: res.filter((r) => (r.loadedAt ?? 0) > (r.startAt ?? 0)).length,
    });
  }
  return { starts, workers, concurrency, n, quotaRps, latencyMs, budgetS, rows };
}

export function table(res) {
  return printTable(
    ["contender", "lanes per worker", "cold starts with all values", "started", "failed", "key-service calls", "throttled", "all done (s)", "median start ms", "failures by code", "late workers"],
    res.rows.map((r) => [
      r.contender,
      r.lanes,
      `${r.ok}/${r.starts}`,
      r.started,
      r.failed,
      r.calls,
      r.throttled,
      r.allDoneS,
      r.medianStartMs,
      Object.entries(r.errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", "),
      r.lateWorkers,
    ]),
  );
}

await runStandalone(import.meta.url, run, table);
