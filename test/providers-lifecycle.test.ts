/**
 * rekey / rotate / add-key / remove-key through @sealkit/store on the cloud and HSM
 * providers that have no dedicated lifecycle suite here: Google Cloud KMS (the local
 * server, the real SDK over REST) and PKCS#11 (SoftHSM2). AWS KMS: aws-kms-lifecycle.test.ts;
 * Azure Key Vault: packages/azure-key-vault/test/store-runtime.test.ts; local and a
 * versioned test double: packages/store/test/lifecycle.test.ts.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { disposeProviders, registerProvider, unwrapFirst } from "@sealkit/envelope";
import { createGcpKmsProvider } from "@sealkit/gcp-kms";
import { createMasterKey, pkcs11Provider } from "@sealkit/pkcs11";
import { getSecret, initStore, readStoreFile, rekeyStore, rotateStore, setSecrets, verifyStore } from "@sealkit/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realClient } from "../packages/gcp-kms/test/helpers.js";
import { type GcpKmsServer, startGcpKmsServer } from "./support/gcp-kms-server.js";
import { type TestToken, createToken, describeHsm } from "./support/softhsm.js";

const te = new TextEncoder();
const td = new TextDecoder();
const VALUES = { "db-password": "provider-lifecycle-pw-1", "api-key": "provider-lifecycle-ak-2" };

async function newStore(provider: string, keyRef: string): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), `sk-${provider}-`)), "sealkit.secrets.json");
  await initStore({ path, masterKeys: [{ provider, keyRef }] });
  await setSecrets(path, new Map(Object.entries(VALUES).map(([k, v]) => [k, te.encode(v)])));
  return path;
}

async function expectValues(path: string): Promise<void> {
  for (const [k, v] of Object.entries(VALUES)) expect(td.decode(await getSecret(path, k))).toBe(v);
  const r = await verifyStore(path);
  expect(r.failed).toEqual([]);
  expect(r.keys.every((k) => k.ok)).toBe(true);
}

/** The same walk on every provider: refresh, add a second key, drop the first, rotate. */
async function lifecycle(provider: string, k1: string, k2: string, afterRefresh?: (path: string) => Promise<void>) {
  const path = await newStore(provider, k1);
  const s0 = await readStoreFile(path);
  const r = await rekeyStore(path);
  expect(r.steps[0]?.action).toBe("refresh");
  const s1 = await readStoreFile(path);
  expect(s1.keys[0]?.wrapped).not.toBe(s0.keys[0]?.wrapped);
  expect(s1.secrets).toEqual(s0.secrets);
  expect(s1.generation).toBe(s0.generation);
  await afterRefresh?.(path);
  await expectValues(path);

  await rekeyStore(path, { add: [{ provider, keyRef: k2 }] });
  expect((await readStoreFile(path)).keys).toHaveLength(2);
  await rekeyStore(path, { remove: [(await readStoreFile(path)).keys[0]?.keyRef as string] });
  const s2 = await readStoreFile(path);
  expect(s2.keys).toHaveLength(1);
  await expectValues(path);
  await expect(rekeyStore(path, { remove: [s2.keys[0]?.keyRef as string] })).rejects.toMatchObject({ code: "E_INPUT" });

  const before = readFileSync(path, "utf8");
  await rotateStore(path);
  const s3 = await readStoreFile(path);
  expect(s3.generation).toBe(s2.generation + 1);
  expect(s3.keys[0]?.context["sealkit:generation"]).toBe(String(s3.generation));
  expect(readFileSync(path, "utf8")).not.toBe(before);
  await expectValues(path);
  (await unwrapFirst(s3.keys)).dataKey.fill(0);
}

describe("Google Cloud KMS (local server)", () => {
  let server: GcpKmsServer;
  beforeAll(async () => {
    server = await startGcpKmsServer();
    registerProvider(createGcpKmsProvider({ client: realClient(server) }));
  });
  afterAll(async () => {
    await disposeProviders();
    await server.close();
  });

  it("refresh after a new primary version, add, remove, rotate", async () => {
    const k1 = server.admin.createKey(`projects/sealkit-test/locations/europe-west1/keyRings/ring/cryptoKeys/life-1-${process.pid}`);
    const k2 = server.admin.createKey(`projects/sealkit-test/locations/europe-west1/keyRings/ring/cryptoKeys/life-2-${process.pid}`);
    await lifecycle("gcp-kms", k1, k2, async (path) => {
      // A new primary version, then a refresh: the data key is now wrapped under it, so the
      // old version can be disabled without locking anyone out.
      const v1 = server.admin.primaryOf(k1);
      server.admin.addVersion(k1, { primary: true });
      await rekeyStore(path);
      server.admin.disableVersion(v1);
      await expectValues(path);
    });
  });
});

describeHsm("PKCS#11 (SoftHSM2)", () => {
  let token: TestToken;
  beforeAll(() => {
    token = createToken();
    registerProvider(pkcs11Provider({ module: token.module, pin: token.pin }));
  });
  afterAll(async () => {
    await disposeProviders();
    token.cleanup();
  });

  it("refresh, add a second key, remove the first, rotate", async () => {
    const k1 = (await createMasterKey({ module: token.module, token: token.label, label: "life-1", pin: token.pin })).keyRef;
    const k2 = (await createMasterKey({ module: token.module, token: token.label, label: "life-2", pin: token.pin })).keyRef;
    await lifecycle("pkcs11", k1, k2);
  });
});
