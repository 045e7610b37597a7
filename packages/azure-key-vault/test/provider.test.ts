import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPEN_FAILED, contextAad, guardProvider, newDataKey, toBase64, wrapContext } from "@sealkit/envelope";
import { type KeyVaultServer, startKeyVaultServer } from "./support/azure-key-vault-server.js";
import { providerFor, rejection } from "./support/fixtures.js";

const ctx = wrapContext("AAAAAAAAAAAAAAAAAAAAAA", 1);
let server: KeyVaultServer;
let rsaKey: string; // unversioned: https://127.0.0.1:port/keys/rsa
let aesKey: string;

beforeAll(async () => {
  server = await startKeyVaultServer();
  server.admin.createKey("rsa", "RSA-HSM");
  server.admin.createKey("aes", "oct-HSM");
  rsaKey = `${server.url}/keys/rsa`;
  aesKey = `${server.url}/keys/aes`;
});
afterAll(() => server.close());

const opsSince = (n: number) => server.calls.slice(n).map((c) => `${c.op}:${c.status}`);

describe("azure-key-vault provider against the local Key Vault", () => {
  it("wraps under an RSA key locally (GET only, no wrapkey call) and unwraps with one service call", async () => {
    const p = guardProvider(providerFor(server));
    const dataKey = newDataKey();
    const before = server.calls.length;
    const rec = await p.wrapKey(dataKey, { keyRef: rsaKey, context: ctx });
    expect(opsSince(before)).toEqual(["challenge:401", "get:200"]);
    expect(rec.keyRef).toBe(`${rsaKey}/${server.admin.latestVersion("rsa")}`);
    expect(Buffer.from(rec.wrapped, "base64").length).toBe(256);

    const mark = server.calls.length;
    const back = await p.unwrapKey(rec);
    expect(Buffer.from(back)).toEqual(Buffer.from(dataKey));
    // The runtime path: a challenge and one unwrapkey, no GET (the function holds unwrap only).
    expect(opsSince(mark)).toEqual(["challenge:401", "unwrapKey:200"]);
  });

  it("the RSA wrap is RSA-OAEP-256 over the data key and the context digest (the documented format)", async () => {
    const p = guardProvider(providerFor(server));
    const dataKey = newDataKey();
    const rec = await p.wrapKey(dataKey, { keyRef: rsaKey, context: ctx });
    const version = rec.keyRef.split("/").pop() as string;
    const payload = server.admin.rsaOaep256Decrypt("rsa", version, Buffer.from(rec.wrapped, "base64"));
    const digest = createHash("sha256").update("sealkit/azure-key-vault/context/1\0").update(contextAad(ctx)).digest();
    expect(payload.length).toBe(64);
    expect(payload.subarray(0, 32)).toEqual(Buffer.from(dataKey));
    expect(payload.subarray(32)).toEqual(digest);
  });

  it("wraps and unwraps with A256KW on a Managed HSM AES key, in the HSM", async () => {
    const p = guardProvider(providerFor(server));
    const dataKey = newDataKey();
    const before = server.calls.length;
    const rec = await p.wrapKey(dataKey, { keyRef: aesKey, context: ctx });
    expect(opsSince(before)).toContain("wrapKey:200");
    expect(Buffer.from(rec.wrapped, "base64").length).toBe(72);
    expect(Buffer.from(await p.unwrapKey(rec))).toEqual(Buffer.from(dataKey));
  });

  it("rekey across versions: old records stay pinned and open, new wraps go to the current version", async () => {
    server.admin.createKey("rotating", "RSA-HSM");
    const keyRef = `${server.url}/keys/rotating`;
    const p = guardProvider(providerFor(server));
    const dataKey = newDataKey();
    const v1 = await p.wrapKey(dataKey, { keyRef, context: ctx });
    server.admin.rotateKey("rotating");
    const v2 = server.admin.latestVersion("rotating");
    expect(v1.keyRef.endsWith(v2)).toBe(false);
    // Rekey wraps under the recorded (pinned) keyRef and lands on the current version.
    const rekeyed = await p.wrapKey(dataKey, { keyRef: v1.keyRef, context: ctx });
    expect(rekeyed.keyRef).toBe(`${keyRef}/${v2}`);
    expect(Buffer.from(await p.unwrapKey(v1))).toEqual(Buffer.from(dataKey));
    expect(Buffer.from(await p.unwrapKey(rekeyed))).toEqual(Buffer.from(dataKey));
    // A disabled old version no longer opens the old record; the rekeyed one still opens.
    server.admin.disableKey("rotating", v1.keyRef.split("/").pop());
    expect((await rejection(p.unwrapKey(v1))).code).toBe("E_KEY_DISABLED");
    expect(Buffer.from(await p.unwrapKey(rekeyed))).toEqual(Buffer.from(dataKey));
  });

  it("A256KW rekey across versions", async () => {
    server.admin.createKey("aes-rot", "oct-HSM");
    const p = guardProvider(providerFor(server));
    const dataKey = newDataKey();
    const v1 = await p.wrapKey(dataKey, { keyRef: `${server.url}/keys/aes-rot`, context: ctx });
    server.admin.rotateKey("aes-rot");
    const v2 = await p.wrapKey(dataKey, { keyRef: v1.keyRef, context: ctx });
    expect(v2.keyRef).not.toBe(v1.keyRef);
    expect(Buffer.from(await p.unwrapKey(v1))).toEqual(Buffer.from(dataKey));
    expect(Buffer.from(await p.unwrapKey(v2))).toEqual(Buffer.from(dataKey));
  });

  it("a wrapped key presented under another version fails with E_AUTH and the one open-failed message", async () => {
    server.admin.createKey("vm", "RSA-HSM");
    const p = guardProvider(providerFor(server));
    const rec = await p.wrapKey(newDataKey(), { keyRef: `${server.url}/keys/vm`, context: ctx });
    server.admin.rotateKey("vm");
    const other = `${server.url}/keys/vm/${server.admin.latestVersion("vm")}`;
    const e = await rejection(p.unwrapKey({ ...rec, keyRef: other }));
    expect(e.code).toBe("E_AUTH");
    expect(e.message).toBe(OPEN_FAILED);
  });

  it("tampered wrapped keys and a moved context never yield a data key", async () => {
    const p = guardProvider(providerFor(server));
    for (const keyRef of [rsaKey, aesKey]) {
      const rec = await p.wrapKey(newDataKey(), { keyRef, context: ctx });
      const bytes = Buffer.from(rec.wrapped, "base64");
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 1;
      expect((await rejection(p.unwrapKey({ ...rec, wrapped: toBase64(bytes) }))).code).toBe("E_AUTH");
      // The same bytes recorded for another store or generation: the context digest differs.
      expect((await rejection(p.unwrapKey({ ...rec, context: wrapContext("BBBBBBBBBBBBBBBBBBBBBB", 1) }))).code).toBe("E_AUTH");
      expect((await rejection(p.unwrapKey({ ...rec, context: wrapContext("AAAAAAAAAAAAAAAAAAAAAA", 2) }))).code).toBe("E_AUTH");
      // Truncated bytes fail before any call.
      expect((await rejection(p.unwrapKey({ ...rec, wrapped: toBase64(bytes.subarray(0, 40)) }))).code).toBe("E_AUTH");
    }
  });
});

describe("errors, classified", () => {
  it("429 is E_THROTTLED, retryable, with Retry-After, after exactly one request (no SDK retries)", async () => {
    const p = guardProvider(providerFor(server));
    const rec = await p.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx });
    const fresh = guardProvider(providerFor(server));
    const mark = server.calls.length;
    server.admin.failNext(1, 429);
    const e = await rejection(fresh.unwrapKey(rec));
    expect(e.code).toBe("E_THROTTLED");
    expect(e.retryable).toBe(true);
    expect(e.details.retryAfterMs).toBe(1000);
    expect(opsSince(mark)).toEqual(["challenge:401", "unwrapKey:429"]);
    // The next attempt (the runtime's retry) succeeds on the same client.
    expect((await fresh.unwrapKey(rec)).length).toBe(32);
  });

  it("with SDK retries allowed (the CLI could opt in), a throttled call succeeds", async () => {
    const p = guardProvider(providerFor(server, { maxRetries: 2, clientOptions: { retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 50 } } }));
    const rec = await p.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx });
    server.admin.failNext(1, 429);
    expect((await p.unwrapKey(rec)).length).toBe(32);
  });

  it("5xx is E_UNAVAILABLE; a refused connection is E_UNAVAILABLE", async () => {
    const p = guardProvider(providerFor(server));
    const rec = await p.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx });
    server.admin.failNext(1, 503, "ServiceUnavailable");
    expect((await rejection(p.unwrapKey(rec))).code).toBe("E_UNAVAILABLE");
    const dead = `https://127.0.0.1:1/keys/rsa/${rec.keyRef.split("/").pop()}`;
    expect((await rejection(p.unwrapKey({ ...rec, keyRef: dead }))).code).toBe("E_UNAVAILABLE");
  });

  it("an abort (the runtime's per-attempt timeout) is E_TIMEOUT", async () => {
    const p = guardProvider(providerFor(server));
    const rec = await p.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx });
    server.admin.setLatency(500);
    try {
      const e = await rejection(p.unwrapKey(rec, AbortSignal.timeout(100)));
      expect(e.code).toBe("E_TIMEOUT");
      expect(e.retryable).toBe(true);
    } finally {
      server.admin.setLatency(0);
    }
  });

  it("an untrusted certificate is E_UNAVAILABLE naming TLS", async () => {
    const p = guardProvider(providerFor(server, { clientOptions: { tlsOptions: {} } }));
    const e = await rejection(p.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx }));
    expect(e.code).toBe("E_UNAVAILABLE");
    expect(e.message).toMatch(/TLS|certificate/);
  });

  it("bad key identifiers are E_CONFIG before any call", async () => {
    const p = guardProvider(providerFor(server));
    const before = server.calls.length;
    for (const keyRef of [
      "rsa",
      `http://127.0.0.1/keys/rsa`,
      `${server.url}/secrets/rsa`,
      `${server.url}/keys/bad_name`,
      `${server.url}/keys/rsa/not-a-version`,
      `${server.url}/keys/rsa?x=1`,
    ]) {
      const e = await rejection(p.wrapKey(newDataKey(), { keyRef, context: ctx }));
      expect(e.code, keyRef).toBe("E_CONFIG");
      expect(e.message).toContain("/keys/<key-name>");
    }
    // An unversioned record cannot be unwrapped: the version is what pins the key.
    const e = await rejection(p.unwrapKey({ provider: "azure-key-vault", keyRef: rsaKey, wrapped: toBase64(new Uint8Array(256)), context: ctx }));
    expect(e.code).toBe("E_CONFIG");
    expect(server.calls.length).toBe(before);
  });

  it("a missing key is E_NOT_FOUND; an EC key is E_CONFIG", async () => {
    const p = guardProvider(providerFor(server));
    expect((await rejection(p.wrapKey(newDataKey(), { keyRef: `${server.url}/keys/nope`, context: ctx }))).code).toBe("E_NOT_FOUND");
    const rec = await p.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx });
    const missing = `${rsaKey}/${"0".repeat(32)}`;
    expect((await rejection(p.unwrapKey({ ...rec, keyRef: missing }))).code).toBe("E_NOT_FOUND");
  });

  it("permission denied is E_ACCESS_DENIED naming the permission; a function with unwrap only can unwrap", async () => {
    const owner = guardProvider(providerFor(server));
    const rec = await owner.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx });
    server.admin.addPrincipal("wrap-only", ["get", "wrapKey"]);
    server.admin.addPrincipal("unwrap-only", ["unwrapKey"]);
    const wrapOnly = guardProvider(providerFor(server, { token: "wrap-only" }));
    const e = await rejection(wrapOnly.unwrapKey(rec));
    expect(e.code).toBe("E_ACCESS_DENIED");
    expect(e.retryable).toBe(false);
    expect(e.message).toContain("unwrapKey");
    // Least privilege for the runtime: unwrap only, no get.
    const fn = guardProvider(providerFor(server, { token: "unwrap-only" }));
    expect((await fn.unwrapKey(rec)).length).toBe(32);
    expect((await rejection(fn.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx }))).code).toBe("E_ACCESS_DENIED");
    // A token the vault does not accept.
    const stranger = guardProvider(providerFor(server, { token: "stranger" }));
    expect((await rejection(stranger.unwrapKey(rec))).code).toBe("E_ACCESS_DENIED");
  });

  it("a disabled key is E_KEY_DISABLED for wrap and unwrap", async () => {
    server.admin.createKey("dis", "RSA-HSM");
    const p = guardProvider(providerFor(server));
    const rec = await p.wrapKey(newDataKey(), { keyRef: `${server.url}/keys/dis`, context: ctx });
    server.admin.disableKey("dis");
    expect((await rejection(p.unwrapKey(rec))).code).toBe("E_KEY_DISABLED");
    expect((await rejection(p.wrapKey(newDataKey(), { keyRef: `${server.url}/keys/dis`, context: ctx }))).code).toBe("E_KEY_DISABLED");
  });

  it("missing credentials are E_CREDENTIALS naming where DefaultAzureCredential looked", async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (/^(AZURE_|IDENTITY_|MSI_|IDENTITY)/.test(k)) delete process.env[k];
    // The environment credential only: no `az`, no IMDS probe, no network.
    process.env.AZURE_TOKEN_CREDENTIALS = "EnvironmentCredential";
    try {
      const { createAzureKeyVaultProvider } = await import("@sealkit/azure-key-vault");
      const p = guardProvider(
        createAzureKeyVaultProvider({ clientOptions: { tlsOptions: { ca: server.ca }, disableChallengeResourceVerification: true } }),
      );
      const e = await rejection(p.wrapKey(newDataKey(), { keyRef: rsaKey, context: ctx }));
      expect(e.code).toBe("E_CREDENTIALS");
      expect(e.message).toMatch(/AZURE_CLIENT_ID/);
      expect(e.message).toMatch(/managed identity/);
      expect(e.message).toMatch(/az login/);
    } finally {
      process.env = saved;
    }
  });
});
