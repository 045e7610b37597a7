import { SealkitError, OPEN_FAILED } from "@sealkit/envelope";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KmsServer } from "../../../test/support/aws-kms-server.js";
import { ctx, dataKey, guarded, kmsServer } from "./helpers.js";

let server: KmsServer;
beforeAll(async () => {
  server = await kmsServer();
});
afterAll(() => server.close());

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SealkitError);
    return (e as SealkitError).code;
  }
  throw new Error("expected a failure");
}

describe("aws-kms provider against the local KMS server", () => {
  it("wraps with Encrypt, pins the key ARN, and unwraps with Decrypt", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const dk = dataKey();
    const before = server.calls.Encrypt ?? 0;
    const rec = await p.wrapKey(dk, { keyRef: key.arn, context: ctx() });
    expect(server.calls.Encrypt).toBe(before + 1);
    expect(rec.keyRef).toBe(key.arn);
    expect(rec.provider).toBe("aws-kms");
    expect(Buffer.from(rec.wrapped, "base64").includes(Buffer.from(dk))).toBe(false);
    expect(await p.unwrapKey(rec)).toEqual(dk);
  });

  it("records the key ARN when wrapping through an alias ARN", async () => {
    const key = server.createKey();
    const alias = server.createAlias("alias/app-prod", key.keyId);
    const rec = await guarded(server).wrapKey(dataKey(), { keyRef: alias, context: ctx() });
    expect(rec.keyRef).toBe(key.arn);
  });

  it("fails with E_AUTH and the one open message under a wrong encryption context", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx("AAAAAAAAAAAAAAAAAAAAAA", 1) });
    const moved = { ...rec, context: ctx("BBBBBBBBBBBBBBBBBBBBBB", 1) };
    const err = await p.unwrapKey(moved).catch((e) => e);
    expect(err.code).toBe("E_AUTH");
    expect(err.message).toBe(OPEN_FAILED);
    const nextGen = { ...rec, context: ctx("AAAAAAAAAAAAAAAAAAAAAA", 2) };
    expect(await code(p.unwrapKey(nextGen))).toBe("E_AUTH");
  });

  it("refuses a blob made under another key when the key is pinned (E_AUTH)", async () => {
    const a = server.createKey();
    const b = server.createKey();
    const p = guarded(server);
    const rec = await p.wrapKey(dataKey(), { keyRef: a.arn, context: ctx() });
    expect(await code(p.unwrapKey({ ...rec, keyRef: b.arn }))).toBe("E_AUTH");
  });

  it("rewraps with ReEncrypt to another key without the data key leaving KMS", async () => {
    const a = server.createKey();
    const b = server.createKey();
    const p = guarded(server);
    const dk = dataKey();
    const rec = await p.wrapKey(dk, { keyRef: a.arn, context: ctx() });
    const decrypts = server.calls.Decrypt ?? 0;
    const moved = await p.rewrapKey(rec, b.arn);
    expect(server.calls.Decrypt ?? 0).toBe(decrypts);
    expect(server.calls.ReEncrypt).toBeGreaterThanOrEqual(1);
    expect(moved.keyRef).toBe(b.arn);
    expect(moved.context).toEqual(rec.context);
    expect(await p.unwrapKey(moved)).toEqual(dk);
    server.disableKey(a.keyId);
    expect(await p.unwrapKey(moved)).toEqual(dk);
  });

  it("keeps opening envelopes made before a key rotation, and rewraps them to the new version", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const dk = dataKey();
    const old = await p.wrapKey(dk, { keyRef: key.arn, context: ctx() });
    server.rotateKey(key.keyId);
    expect(await p.unwrapKey(old)).toEqual(dk);
    const fresh = await p.rewrapKey(old, key.arn);
    expect(fresh.wrapped).not.toBe(old.wrapped);
    expect(await p.unwrapKey(fresh)).toEqual(dk);
  });

  it("refuses a cross-region ReEncrypt with E_CONFIG", async () => {
    const a = server.createKey({ region: "us-east-1" });
    const b = server.createKey({ region: "eu-west-1" });
    const p = guarded(server);
    const rec = await p.wrapKey(dataKey(), { keyRef: a.arn, context: ctx() });
    expect(await code(p.rewrapKey(rec, b.arn))).toBe("E_CONFIG");
  });

  it("maps a disabled or pending-deletion key to E_KEY_DISABLED, never retried", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    server.disableKey(key.keyId);
    const err = await p.unwrapKey(rec).catch((e) => e);
    expect(err.code).toBe("E_KEY_DISABLED");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(key.arn);
    server.enableKey(key.keyId);
    expect((await p.unwrapKey(rec)).length).toBe(32);
    server.scheduleKeyDeletion(key.keyId);
    expect(await code(p.unwrapKey(rec))).toBe("E_KEY_DISABLED");
  });

  it("maps AccessDenied to E_ACCESS_DENIED with a pointer to sealkit policy", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    server.setAccessDenied(key.keyId, ["Decrypt"]);
    const err = await p.unwrapKey(rec).catch((e) => e);
    expect(err.code).toBe("E_ACCESS_DENIED");
    expect(err.message).toContain("sealkit policy");
  });

  it("classifies throttling as E_THROTTLED (retryable); with SDK retries off it makes one call", async () => {
    const key = server.createKey();
    const p = guarded(server, { maxAttempts: 1 });
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    server.failNext("ThrottlingException", 1);
    const before = server.calls.Decrypt ?? 0;
    const err = await p.unwrapKey(rec, new AbortController().signal).catch((e) => e);
    expect(err.code).toBe("E_THROTTLED");
    expect(err.retryable).toBe(true);
    expect(server.calls.Decrypt).toBe(before + 1);
  });

  it("the runtime path (a caller with a signal) makes one attempt; the CLI path retries", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const dk = dataKey();
    const rec = await p.wrapKey(dk, { keyRef: key.arn, context: ctx() });
    server.failNext("ThrottlingException", 1);
    const before = server.calls.Decrypt ?? 0;
    expect(await code(p.unwrapKey(rec, new AbortController().signal))).toBe("E_THROTTLED");
    expect(server.calls.Decrypt).toBe(before + 1);
    server.failNext("ThrottlingException", 2);
    expect(await p.unwrapKey(rec)).toEqual(dk);
    expect(server.calls.Decrypt).toBe(before + 4);
  });

  it("maps 5xx and connection resets to E_UNAVAILABLE and an aborted call to E_TIMEOUT", async () => {
    const key = server.createKey();
    const p = guarded(server, { maxAttempts: 1 });
    const rec = await p.wrapKey(dataKey(), { keyRef: key.arn, context: ctx() });
    server.failNext("KMSInternalException");
    expect(await code(p.unwrapKey(rec))).toBe("E_UNAVAILABLE");
    server.failNext("http503");
    expect(await code(p.unwrapKey(rec))).toBe("E_UNAVAILABLE");
    server.failNext("reset");
    expect(await code(p.unwrapKey(rec))).toBe("E_UNAVAILABLE");
    server.setLatency(2000);
    try {
      expect(await code(p.unwrapKey(rec, AbortSignal.timeout(50)))).toBe("E_TIMEOUT");
    } finally {
      server.setLatency(0);
    }
  });

  it("maps a key that does not exist to E_NOT_FOUND and a malformed ARN to E_CONFIG", async () => {
    const p = guarded(server);
    const missing = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000";
    expect(await code(p.wrapKey(dataKey(), { keyRef: missing, context: ctx() }))).toBe("E_NOT_FOUND");
    for (const bad of ["arn:aws:kms:us-east-1:1111:key/x", "alias/app", "arn:aws:s3:::bucket", "not an arn"]) {
      const err = await p.wrapKey(dataKey(), { keyRef: bad, context: ctx() }).catch((e) => e);
      expect(err.code).toBe("E_CONFIG");
      expect(err.message).toMatch(/malformed AWS KMS key reference/);
    }
  });

  it("never puts the data key into an error", async () => {
    const key = server.createKey();
    const p = guarded(server);
    const dk = dataKey(0x41);
    const rec = await p.wrapKey(dk, { keyRef: key.arn, context: ctx() });
    server.setAccessDenied(key.keyId, true);
    const errs = [
      await p.wrapKey(dk, { keyRef: key.arn, context: ctx() }).catch((e) => e),
      await p.unwrapKey(rec).catch((e) => e),
    ];
    for (const e of errs) {
      const text = `${e.message} ${JSON.stringify(e)} ${JSON.stringify(e.details)}`;
      expect(text).not.toContain(Buffer.from(dk).toString("base64"));
      expect(text).not.toContain("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    }
  });
});
