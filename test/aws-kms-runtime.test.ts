/**
 * The runtime (`secret()`) with the aws-kms provider against the local KMS server, the way a
 * bundle uses it: `register()` of the store's data-key record and envelopes, credentials and
 * endpoint from the environment (so the light Decrypt path is the one exercised), retries
 * and failover by the runtime.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeEnvelope, encodeKeyRecord, keyRecordOf, storedEnvelope } from "@sealkit/envelope";
import { configure, dispose, register, secret } from "@sealkit/runtime";
import { initStore, readStoreFile, setSecrets } from "@sealkit/store";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type KmsServer, startKmsServer } from "./support/aws-kms-server.js";

const CREDS = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLERUNTIME01", AWS_SECRET_ACCESS_KEY: "runtime/fake/secret/for/tests/0000000000" };
const N = 20;
const saved = { ...process.env };
let server: KmsServer;
let east: ReturnType<KmsServer["createKey"]>;
let west: ReturnType<KmsServer["createKey"]>;

beforeAll(async () => {
  server = await startKmsServer({ credentials: { [CREDS.AWS_ACCESS_KEY_ID]: CREDS.AWS_SECRET_ACCESS_KEY } });
  for (const v of Object.keys(process.env)) if (v.startsWith("AWS_") || v.startsWith("SEALKIT_")) delete process.env[v];
  Object.assign(process.env, { ...CREDS, AWS_ENDPOINT_URL_KMS: server.url, AWS_EC2_METADATA_DISABLED: "true" });
  await import("@sealkit/aws-kms");
  east = server.createKey({ region: "us-east-1" });
  west = server.createKey({ region: "eu-west-1" });
  const path = join(mkdtempSync(join(tmpdir(), "sealkit-aws-rt-")), "sealkit.secrets.json");
  await initStore({
    path,
    masterKeys: [
      { provider: "aws-kms", keyRef: east.arn },
      { provider: "aws-kms", keyRef: west.arn },
    ],
  });
  const values = new Map(Array.from({ length: N }, (_, i) => [`s${i}`, new TextEncoder().encode(`value-${i}`)]));
  await setSecrets(path, values);
  const store = await readStoreFile(path);
  const envelopes = Object.fromEntries([...values.keys()].map((n) => [n, encodeEnvelope(storedEnvelope(store, n))]));
  register(encodeKeyRecord(keyRecordOf(store)), envelopes, { pins: store.keys.map((k) => `aws-kms:${k.keyRef}`) });
  configure({ backoff: 1, backoffCap: 5 });
});
afterAll(async () => {
  await dispose();
  process.env = saved;
  await server.close();
});
beforeEach(async () => {
  await dispose();
  server.resetCounters();
  server.setRegionDown("us-east-1", false);
});

describe("secret() with aws-kms master keys", () => {
  it("opens 20 secrets with one Decrypt, through the light client", async () => {
    const got = await Promise.all(Array.from({ length: N }, (_, i) => secret(`s${i}`)));
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `value-${i}`));
    expect(server.calls.Decrypt).toBe(1);
    expect(server.requests).toEqual([expect.objectContaining({ op: "Decrypt", region: "us-east-1", client: "other" })]);
  });

  it("retries a throttled Decrypt (the runtime retries; the provider makes one call per attempt)", async () => {
    server.failNext("ThrottlingException", 2);
    expect(await secret("s3")).toBe("value-3");
    const decrypts = server.requests.filter((r) => r.op === "Decrypt");
    expect(decrypts.filter((r) => r.error === "ThrottlingException").length).toBe(2);
    expect(decrypts.filter((r) => !r.error).length).toBe(1);
  });

  it("fails over to the key in the second region when the first region is down", async () => {
    server.setRegionDown("us-east-1", true);
    expect(await secret("s7")).toBe("value-7");
    expect(server.requests.filter((r) => !r.error).map((r) => r.region)).toEqual(["eu-west-1"]);
  });

  it("a disabled key is not retried: E_KEY_DISABLED after one call per key", async () => {
    server.disableKey(east.keyId);
    server.disableKey(west.keyId);
    try {
      const err = await secret("s1").catch((e) => e);
      expect(err.code).toBe("E_KEY_DISABLED");
      expect(server.calls.Decrypt).toBe(2);
      expect(JSON.stringify(err)).not.toContain("value-1");
    } finally {
      server.enableKey(east.keyId);
      server.enableKey(west.keyId);
    }
  });
});
