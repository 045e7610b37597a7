/**
 * A pass-through in front of the local server for Secrets Manager reads, used only when the
 * server's throttle settings cover KMS operations alone (see `throttlesSecretsManager`).
 * Secrets Manager decrypts each secret with KMS on every GetSecretValue, so in the fault and
 * fleet benchmarks its reads must meet the same throttling as the per-secret KMS peers.
 * It applies the same two rules as the server: a random fraction (the servers' seeded PRNG) and a
 * requests-per-second quota over a fixed 1 s window, answering with an AWS-shaped
 * ThrottlingException; everything else is forwarded unchanged. Nothing is logged.
 */
import { createServer, request } from "node:http";
import { tsImport } from "tsx/esm/api";

// The same seeded PRNG as the local key servers.
const { prng } = await tsImport("../../test/support/prng.ts", import.meta.url);

export async function startSecretsManagerProxy(upstreamUrl, { seed = 7 } = {}) {
  const upstream = new URL(upstreamUrl);
  const random = prng(seed);
  let rate = 0;
  let quota = Number.POSITIVE_INFINITY;
  let windowStart = 0;
  let windowCount = 0;
  const stats = { calls: 0, throttled: 0 };
  const sockets = new Set();
  const throttled = () => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      windowCount = 0;
    }
    windowCount++;
    return windowCount > quota || (rate > 0 && random() < rate);
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      stats.calls++;
      if (throttled()) {
        stats.throttled++;
        const text = JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" });
        res.writeHead(400, {
          "content-type": "application/x-amz-json-1.1",
          "content-length": Buffer.byteLength(text),
          "x-amzn-errortype": "ThrottlingException",
        });
        res.end(text);
        return;
      }
      const up = request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      up.end(body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    setThrottle(o) {
      if (o.rate !== undefined) rate = o.rate;
      if (o.quotaRps !== undefined) quota = o.quotaRps;
    },
    resetCounters() {
      stats.calls = 0;
      stats.throttled = 0;
    },
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
