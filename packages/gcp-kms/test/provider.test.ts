import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SealkitError, getProvider, guardProvider, registerProvider, toBase64 } from "@sealkit/envelope";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GcpKmsServer } from "../../../test/support/gcp-kms-server.js";
import { createGcpKmsProvider } from "../src/index.js";
import { type GcpKmsProvider, createProvider } from "../src/provider.js";
import { ctx, dataKey, fakeAuth, newKey, realClient, startGcpKmsServer } from "./helpers.js";

let server: GcpKmsServer;
let provider: GcpKmsProvider;
beforeAll(async () => {
  server = await startGcpKmsServer();
  provider = createProvider({ client: realClient(server), timeoutMs: 2_000 });
});
afterAll(async () => {
  await provider.dispose?.();
  await server.close();
});

const fail = (p: Promise<unknown>): Promise<SealkitError> =>
  p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e) => {
      expect(e).toBeInstanceOf(SealkitError);
      return e as SealkitError;
    },
  );
const callsSince = (i: number) => server.calls.slice(i);
const noKeyBytes = (e: SealkitError, dk: Uint8Array) => {
  const text = JSON.stringify({ m: e.message, d: e.details });
  expect(text).not.toContain(toBase64(dk));
  expect(text).not.toContain(Buffer.from(dk).toString("hex"));
};

describe("wrap and unwrap through the real client over REST", () => {
  it("wraps under the primary version, pins it in keyRef, and unwraps", async () => {
    const key = newKey(server);
    const dk = dataKey();
    const { wrapped, keyRef } = await provider.wrap(dk, { keyRef: key, context: ctx() });
    expect(keyRef).toBe(`${key}/cryptoKeyVersions/1`);
    expect(wrapped.length).toBeGreaterThan(32);
    expect(await provider.unwrap(wrapped, { keyRef: keyRef as string, context: ctx() })).toEqual(dk);
    // Each side checked the other's CRC32C: the server verified both request checksums.
    const [enc, dec] = server.calls.slice(-2);
    expect([enc?.method, enc?.status, dec?.method, dec?.status]).toEqual(["encrypt", 200, "decrypt", 200]);
    expect(enc?.principal).toBe("token");
  });

  it("works through the registry and the guard (lazy load, frozen record)", async () => {
    const key = newKey(server);
    registerProvider(createGcpKmsProvider({ client: realClient(server) }));
    const p = await getProvider("gcp-kms");
    const dk = dataKey();
    const rec = await p.wrapKey(dk, { keyRef: key, context: ctx() });
    expect(rec).toMatchObject({ provider: "gcp-kms", keyRef: `${key}/cryptoKeyVersions/1` });
    expect(Object.isFrozen(rec)).toBe(true);
    expect(await p.unwrapKey(rec)).toEqual(dk);
    await p.dispose();
  });
});

describe("versions and rekey", () => {
  it("decrypts across versions; a re-wrap moves to the new primary; disabling the old version only breaks old wraps", async () => {
    const key = newKey(server);
    const g = guardProvider(provider);
    const dk = dataKey();
    const old = await g.wrapKey(dk, { keyRef: key, context: ctx() });
    const v2 = server.admin.addVersion(key, { primary: true });
    // Decrypt takes the key; the ciphertext names version 1, which still opens.
    expect(await g.unwrapKey(old)).toEqual(dk);
    // rekey = unwrap + wrap under the same key reference: lands on the primary (v2), even
    // when the record's keyRef pins v1.
    const again = await g.wrapKey(await g.unwrapKey(old), { keyRef: old.keyRef, context: old.context });
    expect(again.keyRef).toBe(v2);
    server.admin.disableVersion(`${key}/cryptoKeyVersions/1`);
    expect((await fail(g.unwrapKey(old))).code).toBe("E_KEY_DISABLED");
    expect(await g.unwrapKey(again)).toEqual(dk);
    server.admin.destroyVersion(`${key}/cryptoKeyVersions/1`);
    const destroyed = await fail(g.unwrapKey(old));
    expect(destroyed.code).toBe("E_KEY_DISABLED");
    expect(destroyed.message).toContain("DESTROYED");
    expect(destroyed.retryable).toBe(false);
  });

  it("fails to wrap with E_KEY_DISABLED when the primary version is disabled", async () => {
    const key = newKey(server);
    server.admin.disableVersion(server.admin.primaryOf(key));
    expect((await fail(provider.wrap(dataKey(), { keyRef: key, context: ctx() }))).code).toBe("E_KEY_DISABLED");
  });
});

describe("the AAD binds the store and generation", () => {
  it("refuses another store, another generation and another key with E_AUTH", async () => {
    const key = newKey(server);
    const other = newKey(server);
    const dk = dataKey();
    const { wrapped, keyRef } = await provider.wrap(dk, { keyRef: key, context: ctx("st_gcp_test_0001", 1) });
    for (const [ref, c] of [
      [keyRef as string, ctx("st_gcp_test_0002", 1)],
      [keyRef as string, ctx("st_gcp_test_0001", 2)],
      [other, ctx("st_gcp_test_0001", 1)],
    ] as const) {
      const e = await fail(provider.unwrap(wrapped, { keyRef: ref, context: c }));
      expect(e.code).toBe("E_AUTH");
      expect(e.retryable).toBe(false);
      noKeyBytes(e, dk);
    }
    const tampered = wrapped.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    expect((await fail(provider.unwrap(tampered, { keyRef: keyRef as string, context: ctx() }))).code).toBe("E_AUTH");
  });
});

describe("CRC32C (Cloud KMS data-integrity guidelines)", () => {
  it("detects a corrupted ciphertext checksum, corrupted ciphertext and an unverified request on encrypt", async () => {
    const key = newKey(server);
    for (const how of ["checksum", "data", "unverified"] as const) {
      server.admin.corruptNext(1, how);
      const e = await fail(provider.wrap(dataKey(), { keyRef: key, context: ctx() }));
      expect(e.code).toBe("E_UNAVAILABLE");
      expect(e.retryable).toBe(true);
      expect(e.details.integrity).toBe("crc32c");
    }
  });

  it("detects a corrupted plaintext (or its checksum) on decrypt and returns no bytes", async () => {
    const key = newKey(server);
    const dk = dataKey();
    const { wrapped, keyRef } = await provider.wrap(dk, { keyRef: key, context: ctx() });
    for (const how of ["checksum", "data"] as const) {
      server.admin.corruptNext(1, how);
      const e = await fail(provider.unwrap(wrapped, { keyRef: keyRef as string, context: ctx() }));
      expect(e.code).toBe("E_UNAVAILABLE");
      expect(e.message).toContain("CRC32C");
      noKeyBytes(e, dk);
    }
    // The next, undamaged answer opens.
    expect(await provider.unwrap(wrapped, { keyRef: keyRef as string, context: ctx() })).toEqual(dk);
  });

  it("treats the server's own checksum complaint as a transient corruption", async () => {
    // A request damaged on the way: the server sees data that does not match our CRC32C.
    const key = newKey(server);
    const { wrapped, keyRef } = await provider.wrap(dataKey(), { keyRef: key, context: ctx() });
    const lying = createProvider({
      client: {
        ...realClient(server),
        initialize: async () => {},
        decrypt: (req, opts) => realClient(server).decrypt({ ...req, ciphertextCrc32c: { value: (req.ciphertextCrc32c.value + 1) >>> 0 } }, opts),
        encrypt: () => Promise.reject(new Error("unused")),
        getCryptoKey: () => Promise.reject(new Error("unused")),
      },
    });
    const e = await fail(lying.unwrap(wrapped, { keyRef: keyRef as string, context: ctx() }));
    expect(e.code).toBe("E_UNAVAILABLE");
    expect(e.message).toMatch(/checksum/i);
  });
});

describe("errors are classified for the runtime's retry policy, and the SDK does not retry", () => {
  it("throttling: E_THROTTLED, retryable, one request only", async () => {
    const key = newKey(server);
    server.admin.throttleNext(1);
    const before = server.calls.length;
    const e = await fail(provider.wrap(dataKey(), { keyRef: key, context: ctx() }));
    expect([e.code, e.retryable]).toEqual(["E_THROTTLED", true]);
    expect(callsSince(before).map((c) => c.error)).toEqual(["RESOURCE_EXHAUSTED"]);
  });

  it.each([
    ["UNAVAILABLE", "E_UNAVAILABLE"],
    ["INTERNAL", "E_UNAVAILABLE"],
    ["reset", "E_UNAVAILABLE"],
    ["html502", "E_UNAVAILABLE"],
    ["DEADLINE_EXCEEDED", "E_TIMEOUT"],
  ] as const)("%s -> %s, retryable, one request only", async (failure, code) => {
    const key = newKey(server);
    const { wrapped, keyRef } = await provider.wrap(dataKey(), { keyRef: key, context: ctx() });
    server.admin.failNext(1, failure);
    const before = server.calls.length;
    const e = await fail(provider.unwrap(wrapped, { keyRef: keyRef as string, context: ctx() }));
    expect([e.code, e.retryable]).toEqual([code, true]);
    expect(callsSince(before)).toHaveLength(1);
  });

  it("a slow service hits the deadline (E_TIMEOUT); a caller's abort signal is honoured", async () => {
    const key = newKey(server);
    const { wrapped, keyRef } = await provider.wrap(dataKey(), { keyRef: key, context: ctx() });
    server.admin.setLatency(400);
    try {
      const quick = createProvider({ client: realClient(server), timeoutMs: 100 });
      expect((await fail(quick.unwrap(wrapped, { keyRef: keyRef as string, context: ctx() }))).code).toBe("E_TIMEOUT");
      const e = await fail(provider.unwrap(wrapped, { keyRef: keyRef as string, context: ctx(), signal: AbortSignal.timeout(50) }));
      expect([e.code, e.retryable]).toEqual(["E_TIMEOUT", true]);
    } finally {
      server.admin.setLatency(0);
    }
  });

  it("permission denied: E_ACCESS_DENIED naming the role, not retried", async () => {
    const key = newKey(server);
    const { wrapped, keyRef } = await provider.wrap(dataKey(), { keyRef: key, context: ctx() });
    server.admin.deny(key);
    const e = await fail(provider.unwrap(wrapped, { keyRef: keyRef as string, context: ctx() }));
    expect([e.code, e.retryable]).toEqual(["E_ACCESS_DENIED", false]);
    expect(e.message).toContain("roles/cloudkms.cryptoKeyDecrypter");
    expect(e.message).toContain("useToDecrypt");
  });

  it("a key that does not exist: E_NOT_FOUND", async () => {
    const e = await fail(
      provider.wrap(dataKey(), { keyRef: "projects/sealkit-test/locations/europe-west1/keyRings/ring/cryptoKeys/nope", context: ctx() }),
    );
    expect(e.code).toBe("E_NOT_FOUND");
  });

  it.each([
    "arn:aws:kms:us-east-1:111122223333:key/abc",
    "projects/p/locations/l/keyRings/r",
    "projects/p/locations/l/keyRings/r/cryptoKeys/k/",
    "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/x",
    "projects//locations/l/keyRings/r/cryptoKeys/k",
    "",
  ])("a malformed key name (%j) is E_CONFIG before any request", async (bad) => {
    const before = server.calls.length;
    const e = await fail(provider.wrap(dataKey(), { keyRef: bad, context: ctx() }));
    expect(e.code).toBe("E_CONFIG");
    expect(e.message).toContain("projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY");
    expect(server.calls.length).toBe(before);
  });

  it("a rejected token: E_CREDENTIALS", async () => {
    const key = newKey(server);
    server.admin.revokeToken("revoked-token");
    const p = createProvider({ client: realClient(server, fakeAuth("revoked-token")) });
    const e = await fail(p.wrap(dataKey(), { keyRef: key, context: ctx() }));
    expect([e.code, e.retryable]).toEqual(["E_CREDENTIALS", false]);
    expect(e.message).toContain("GOOGLE_APPLICATION_CREDENTIALS");
  });

  it("no credentials at all: E_CREDENTIALS naming GOOGLE_APPLICATION_CREDENTIALS and gcloud ADC, with no unhandled rejection", async () => {
    const key = newKey(server);
    const saved = { ...process.env };
    const empty = mkdtempSync(join(tmpdir(), "sealkit-gcp-noadc-"));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      // No key file, no gcloud config, and no metadata server (never probe the network).
      delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      process.env.CLOUDSDK_CONFIG = empty;
      process.env.HOME = empty;
      process.env.METADATA_SERVER_DETECTION = "none";
      const p = createProvider({ endpoint: server.endpoint });
      const before = server.calls.length;
      for (let i = 0; i < 2; i++) {
        const e = await fail(p.wrap(dataKey(), { keyRef: key, context: ctx() }));
        expect([e.code, e.retryable]).toEqual(["E_CREDENTIALS", false]);
        expect(e.message).toContain("GOOGLE_APPLICATION_CREDENTIALS");
        expect(e.message).toContain("gcloud auth application-default login");
      }
      expect(server.calls.length).toBe(before);
      // A GOOGLE_APPLICATION_CREDENTIALS that names no file is a credentials problem too.
      process.env.GOOGLE_APPLICATION_CREDENTIALS = join(empty, "missing-key.json");
      const q = createProvider({ endpoint: server.endpoint });
      const missing = await fail(q.wrap(dataKey(), { keyRef: key, context: ctx() }));
      expect([missing.code, missing.message]).toEqual(["E_CREDENTIALS", expect.stringContaining("GOOGLE_APPLICATION_CREDENTIALS")]);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      process.env = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
