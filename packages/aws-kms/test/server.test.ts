/**
 * The local KMS server's fault knobs, as the benchmarks and the reliability suite use them:
 * throttling by rate and by per-second quota, and Secrets Manager GetSecretValue.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KmsServer } from "../../../test/support/aws-kms-server.js";
import { signRequest } from "../src/_sigv4.js";
import { FAKE_CREDENTIALS, ctx, dataKey, guarded, kmsServer } from "./helpers.js";

let server: KmsServer;
beforeAll(async () => {
  server = await kmsServer({ secrets: { "db-password": "sm-value-1" } });
});
afterAll(() => server.close());

function getSecretValue(secretId: string, region = "us-east-1"): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify({ SecretId: secretId });
  const url = new URL(server.url);
  const headers = signRequest(
    { url, region, service: "secretsmanager", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.GetSecretValue" }, body },
    FAKE_CREDENTIALS,
  );
  return new Promise((resolve, reject) => {
    const r = request(server.url, { method: "POST", headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    r.on("error", reject);
    r.end(body);
  });
}

describe("local KMS server", () => {
  it("throttles every KMS call at rate 1 and none at rate 0, deterministically", async () => {
    const key = server.createKey();
    const p = guarded(server, { maxAttempts: 1 });
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    server.setThrottle({ rate: 1 });
    try {
      for (let i = 0; i < 3; i++) expect((await p.unwrapKey(rec).catch((e) => e)).code).toBe("E_THROTTLED");
    } finally {
      server.setThrottle({ rate: 0 });
    }
    expect((await p.unwrapKey(rec)).length).toBe(32);
  });

  it("throttles past a per-second quota", async () => {
    const key = server.createKey();
    const p = guarded(server, { maxAttempts: 1 });
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    server.setThrottle({ quotaRps: 3 });
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => p.unwrapKey(rec).then(() => "ok", (e) => e.code)));
      expect(results.filter((r) => r === "ok").length).toBeLessThanOrEqual(3 * 2); // at most two 1 s windows
      expect(results.filter((r) => r === "E_THROTTLED").length).toBeGreaterThanOrEqual(4);
    } finally {
      server.setThrottle({ quotaRps: Number.POSITIVE_INFINITY });
    }
  });

  it("serves Secrets Manager GetSecretValue, with AWS-shaped errors", async () => {
    const ok = await getSecretValue("db-password");
    expect(ok.status).toBe(200);
    expect(ok.body.SecretString).toBe("sm-value-1");
    expect(server.calls.GetSecretValue).toBeGreaterThanOrEqual(1);
    const missing = await getSecretValue("nope");
    expect(missing.status).toBe(400);
    expect(missing.body.__type).toBe("ResourceNotFoundException");
  });

  it("logs requests without plaintext or key material", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const dk = dataKey(0x5a);
    await p.wrapKey(dk, { keyRef: key.arn, context: ctx() });
    const log = JSON.stringify(server.requests);
    expect(log).not.toContain(Buffer.from(dk).toString("base64"));
    expect(log).not.toContain("sm-value-1");
  });
});
