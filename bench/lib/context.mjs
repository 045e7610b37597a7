/**
 * What every benchmark shares: the local KMS server (plus the Secrets Manager throttling
 * pass-through when the server does not throttle those reads), the sealed fixtures, a cache
 * of built bundles, and the environment of a contender's child process. `close()` stops the
 * servers, kills any child left and removes the work directory.
 */
import { join } from "node:path";
import { BENCH_DIR, buildFunction, contenderEnv, makeWorkDir, prepare, removeWorkDir } from "./fixtures.mjs";
import { killAll, runNode } from "./proc.mjs";
import { awsEnv, countCalls, startServer, throttlesSecretsManager } from "./server.mjs";
import { startSecretsManagerProxy } from "./sm-proxy.mjs";
import { isMain } from "./report.mjs";

export const QUICK = process.env.BENCH_QUICK === "1";
/** A few seconds in all: the smoke test in test/ runs this. */
export const SMOKE = process.env.BENCH_SMOKE === "1";

export const COLD_CHILD = join(BENCH_DIR, "child", "cold.mjs");
export const FLEET_CHILD = join(BENCH_DIR, "child", "fleet.mjs");

export async function createContext({ maxN = 100 } = {}) {
  const dir = await makeWorkDir();
  let server;
  let proxy;
  try {
    server = await startServer({ latencyMs: 0 });
    const smThrottled = await throttlesSecretsManager(server);
    if (!smThrottled) proxy = await startSecretsManagerProxy(server.url);
    const env = awsEnv(server, { secretsManagerUrl: proxy?.url });
    Object.assign(process.env, env);
    const fx = await prepare(server, dir, maxN);
    const bundles = new Map();
    const ctx = {
      dir,
      server,
      proxy,
      fx,
      notes: [],
      smThrottledByServer: smThrottled,
      /** Latency and throttling, on the server and the pass-through alike. */
      configure({ latencyMs = 0, throttleRate = 0, quotaRps = Number.POSITIVE_INFINITY } = {}) {
        server.setLatency(latencyMs);
        server.setThrottle({ rate: throttleRate, quotaRps });
        proxy?.setThrottle({ rate: throttleRate, quotaRps });
      },
      resetCounters() {
        server.resetCounters();
        proxy?.resetCounters();
      },
      /** Key-service calls since the last reset, throttled ones included. */
      calls() {
        const c = countCalls(server);
        const t = proxy ? proxy.stats.throttled : 0;
        return { total: c.total + t, throttled: c.throttled + t, byOp: c.byOp };
      },
      async bundle(contender, n, opts = {}) {
        const key = `${contender}:${n}:${opts.fleet ? "fleet" : "fn"}`;
        if (!bundles.has(key)) bundles.set(key, buildFunction(fx, join(dir, "fn"), contender, n, opts));
        return bundles.get(key);
      },
      /** How the Sealkit bundles built so far were made ("plugin", or why not). */
      async sealkitVia() {
        const out = new Set();
        for (const [key, b] of bundles) if (key.startsWith("sealkit")) out.add((await b.catch(() => ({}))).via);
        return [...out].filter(Boolean);
      },
      env(contender, n, extra = {}) {
        return { ...env, ...contenderEnv(fx, contender, n), ...extra };
      },
      /** One cold start of `contender` with N secrets in a fresh process. */
      async coldStart(contender, n, { warmMs = 0, timeoutMs = 120_000 } = {}) {
        const b = await ctx.bundle(contender, n);
        ctx.resetCounters();
        const r = await runNode([COLD_CHILD, b.file, String(n), fx.digest(n)], {
          env: ctx.env(contender, n, { BENCH_WARM_MS: String(warmMs) }),
          timeoutMs,
        });
        const calls = ctx.calls();
        const res = r.result ?? {};
        return {
          ok: res.ok === true,
          error: res.ok ? undefined : (res.error ?? (r.timedOut ? "TIMEOUT" : `EXIT_${r.code}`)),
          wallMs: r.wallMs,
          importMs: res.importMs,
          handlerMs: res.handlerMs,
          doneMs: res.doneMs,
          calls: calls.total,
          throttled: calls.throttled,
          warm: res.warm,
        };
      },
      async close() {
        killAll();
        await proxy?.close();
        await server?.close();
        await removeWorkDir(dir);
      },
    };
    return ctx;
  } catch (e) {
    killAll();
    await proxy?.close();
    await server?.close();
    await removeWorkDir(dir);
    throw e;
  }
}

export { runNode };

/**
 * Runs one benchmark on its own (`node bench/<name>.mjs`) when `url` is the main module:
 * a fresh context, the benchmark, its table, and the context closed whatever happens.
 */
export async function runStandalone(url, run, table, contextOptions = {}) {
  if (!isMain(url)) return;
  const ctx = await createContext(contextOptions);
  try {
    console.log(table(await run(ctx)));
  } finally {
    await ctx.close();
  }
}
