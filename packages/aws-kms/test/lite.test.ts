/**
 * The light runtime Decrypt (node:https + aws4) must behave as the SDK path does: same
 * results, same error codes, SigV4 accepted by a server that verifies signatures. Each case
 * runs through both paths of the registered provider and compares.
 */
import { type GuardedProvider, guardProvider } from "@sealkit/envelope";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KmsServer } from "../../../test/support/aws-kms-server.js";
import { create, liteEligible } from "../src/hybrid.js";
import { FAKE_CREDENTIALS, ctx, dataKey, kmsServer } from "./helpers.js";

let server: KmsServer;
let p: GuardedProvider;
const saved = { ...process.env };

beforeAll(async () => {
  server = await kmsServer();
  for (const v of Object.keys(process.env)) if (v.startsWith("AWS_") || v.startsWith("SEALKIT_AWS")) delete process.env[v];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_KMS: server.url,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
  });
  p = guardProvider(create());
});
afterAll(async () => {
  process.env = saved;
  await p.dispose();
  await server.close();
});
afterEach(() => {
  delete process.env.SEALKIT_AWS_KMS_CLIENT;
  server.setLatency(0);
});

type Outcome = { ok: true; key: string } | { ok: false; code: string; message: string };

async function both(rec: Parameters<GuardedProvider["unwrapKey"]>[0], before?: () => void): Promise<[Outcome, Outcome]> {
  const out: Outcome[] = [];
  for (const mode of ["lite", "sdk"]) {
    process.env.SEALKIT_AWS_KMS_CLIENT = mode;
    before?.();
    server.resetCounters();
    try {
      const k = await p.unwrapKey(rec, new AbortController().signal);
      out.push({ ok: true, key: Buffer.from(k).toString("hex") });
    } catch (e) {
      const err = e as { code: string; message: string };
      out.push({ ok: false, code: err.code, message: err.message });
    }
    expect(server.requests.at(-1)?.client).toBe(mode === "lite" ? "other" : "sdk");
  }
  return out as [Outcome, Outcome];
}

describe("light runtime Decrypt vs the SDK", () => {
  it("opens the same data key, with a signature the server verifies", async () => {
    const key = server.createKey();
    const dk = dataKey();
    const rec = await p.wrapKey(dk, { keyRef: key.arn, context: ctx() });
    const [lite, sdk] = await both(rec);
    expect(lite).toEqual({ ok: true, key: Buffer.from(dk).toString("hex") });
    expect(sdk).toEqual(lite);
  });

  it("signs with a session token too", async () => {
    process.env.AWS_SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken";
    try {
      const key = server.createKey();
      const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
      const [lite, sdk] = await both(rec);
      expect(lite.ok).toBe(true);
      expect(sdk).toEqual(lite);
    } finally {
      delete process.env.AWS_SESSION_TOKEN;
    }
  });

  const cases: [string, string, (s: KmsServer, keyId: string) => void][] = [
    ["wrong context", "E_AUTH", () => {}],
    ["disabled key", "E_KEY_DISABLED", (s, k) => s.disableKey(k)],
    ["pending deletion", "E_KEY_DISABLED", (s, k) => s.scheduleKeyDeletion(k)],
    ["access denied", "E_ACCESS_DENIED", (s, k) => s.setAccessDenied(k, ["Decrypt"])],
    ["throttled", "E_THROTTLED", (s) => s.failNext("ThrottlingException")],
    ["KMS internal error", "E_UNAVAILABLE", (s) => s.failNext("KMSInternalException")],
    ["HTTP 503", "E_UNAVAILABLE", (s) => s.failNext("http503")],
    ["connection reset", "E_UNAVAILABLE", (s) => s.failNext("reset")],
  ];
  for (const [what, code, fault] of cases) {
    it(`maps ${what} to ${code} on both paths`, async () => {
      const key = server.createKey();
      const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
      const target = what === "wrong context" ? { ...rec, context: ctx("CCCCCCCCCCCCCCCCCCCCCC") } : rec;
      const [lite, sdk] = await both(target, () => fault(server, key.keyId));
      expect(lite).toMatchObject({ ok: false, code });
      expect(sdk).toMatchObject({ ok: false, code });
      if (code === "E_AUTH") expect(lite).toEqual(sdk);
    });
  }

  it("maps rejected credentials to E_CREDENTIALS on both paths", async () => {
    const key = server.createKey();
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    process.env.AWS_SECRET_ACCESS_KEY = "wrong-secret";
    // A fresh provider: an SDK client keeps the credentials it first resolved.
    const first = p;
    p = guardProvider(create());
    try {
      const [lite, sdk] = await both(rec);
      expect(lite).toMatchObject({ ok: false, code: "E_CREDENTIALS" });
      expect(sdk).toMatchObject({ ok: false, code: "E_CREDENTIALS" });
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = FAKE_CREDENTIALS.secretAccessKey;
      await p.dispose();
      p = first;
    }
  });

  it("an abort is E_TIMEOUT on the light path", async () => {
    const key = server.createKey();
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    process.env.SEALKIT_AWS_KMS_CLIENT = "lite";
    server.setLatency(1000);
    const err = await p.unwrapKey(rec, AbortSignal.timeout(50)).catch((e) => e);
    expect(err.code).toBe("E_TIMEOUT");
  });

  it("is used only where it matches the SDK's choices", () => {
    const arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const env = { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" };
    expect(liteEligible(arn, {}, env)).toBe(true);
    expect(liteEligible(arn, {}, { ...env, AWS_PROFILE: "dev" })).toBe(false);
    expect(liteEligible(arn, {}, { AWS_PROFILE: "dev" })).toBe(false);
    expect(liteEligible(arn, {}, {})).toBe(false);
    expect(liteEligible(arn, {}, { ...env, SEALKIT_AWS_KMS_CLIENT: "sdk" })).toBe(false);
    expect(liteEligible(arn, {}, { ...env, AWS_USE_FIPS_ENDPOINT: "true" })).toBe(false);
    expect(liteEligible(arn, { maxAttempts: 3 }, env)).toBe(false);
    expect(liteEligible(arn.replace("arn:aws:", "arn:aws-iso:"), {}, env)).toBe(false);
  });

  it("the CLI path (no signal) stays on the SDK", async () => {
    const key = server.createKey();
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    server.resetCounters();
    await p.unwrapKey(rec);
    expect(server.requests.map((r) => r.client)).toEqual(["sdk"]);
  });
});
