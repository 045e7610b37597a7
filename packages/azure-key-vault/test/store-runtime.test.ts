/**
 * The provider inside Sealkit: a store created, filled, read and re-keyed across key
 * versions through @sealkit/store, then opened by @sealkit/runtime the way a bundle does
 * (`register(keyRecord, envelopes)`), all against the local Key Vault.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentKeyRef } from "@sealkit/azure-key-vault";
import { encodeEnvelope, encodeKeyRecord, keyRecordOf, parseStore, registerProvider, storedEnvelope } from "@sealkit/envelope";
import { dispose, register, secret } from "@sealkit/runtime";
import { getSecret, initStore, rekeyStore, setSecrets } from "@sealkit/store";
import { type KeyVaultServer, startKeyVaultServer } from "./support/azure-key-vault-server.js";
import { providerFor } from "./support/fixtures.js";

let server: KeyVaultServer;
let dir: string;
let path: string;
const N = 20;
const values = new Map(Array.from({ length: N }, (_, i) => [`s${i}`, new TextEncoder().encode(`value-${i}-${"x".repeat(i)}`)]));

beforeAll(async () => {
  server = await startKeyVaultServer();
  server.admin.createKey("app", "RSA-HSM");
  registerProvider(providerFor(server));
  dir = mkdtempSync(join(tmpdir(), "sealkit-akv-store-"));
  path = join(dir, "sealkit.secrets.json");
});
afterAll(async () => {
  await dispose();
  await server.close();
});

const ops = (from: number) => server.calls.slice(from).map((c) => `${c.op}:${c.status}`);

describe("store on Azure Key Vault", () => {
  it("init pins the key version; set and get work; the file holds no plaintext", async () => {
    const store = await initStore({ path, masterKeys: [{ provider: "azure-key-vault", keyRef: `${server.url}/keys/app` }] });
    expect(store.keys[0]?.keyRef).toBe(`${server.url}/keys/app/${server.admin.latestVersion("app")}`);
    await setSecrets(path, values);
    expect(new TextDecoder().decode(await getSecret(path, "s3"))).toBe("value-3-xxx");
    const text = readFileSync(path, "utf8");
    for (const v of values.values()) expect(text).not.toContain(new TextDecoder().decode(v));
  });

  it("rekey after rotation moves to the current version; the old version can then be disabled", async () => {
    const before = parseStore(readFileSync(path, "utf8")).keys[0]?.keyRef as string;
    server.admin.rotateKey("app");
    const v2 = server.admin.latestVersion("app");
    const r = await rekeyStore(path, { currentKeyRef });
    expect(r.keys[0]?.keyRef).toBe(`${server.url}/keys/app/${v2}`);
    expect(r.steps[0]).toMatchObject({ action: "refresh", method: "unwrap-wrap" });
    server.admin.disableKey("app", before.split("/").pop());
    expect(new TextDecoder().decode(await getSecret(path, "s19"))).toBe(`value-19-${"x".repeat(19)}`);
  });
});

describe("runtime on Azure Key Vault", () => {
  const bundle = () => {
    const store = parseStore(readFileSync(path, "utf8"));
    const envelopes = Object.fromEntries([...values.keys()].map((n) => [n, encodeEnvelope(storedEnvelope(store, n))]));
    return { record: encodeKeyRecord(keyRecordOf(store)), envelopes };
  };

  it(`a cold start reading ${N} secrets makes one unwrap call (plus the bearer challenge) and no GET`, async () => {
    const { record, envelopes } = bundle();
    register(record, envelopes);
    registerProvider(providerFor(server)); // a fresh client: a cold start
    const mark = server.calls.length;
    const got = await Promise.all([...values.keys()].map((n) => secret(n)));
    expect(got[7]).toBe(`value-7-${"x".repeat(7)}`);
    expect(ops(mark)).toEqual(["challenge:401", "unwrapKey:200"]);
  });

  it("throttled unwraps (429) are retried by the runtime and the values still open", async () => {
    await dispose();
    registerProvider(providerFor(server));
    const { record, envelopes } = bundle();
    register(record, envelopes);
    const mark = server.calls.length;
    server.admin.failNext(2, 429);
    expect(await secret("s1")).toBe("value-1-x");
    expect(ops(mark)).toEqual(["challenge:401", "unwrapKey:429", "unwrapKey:429", "unwrapKey:200"]);
  });
});
