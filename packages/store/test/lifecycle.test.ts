import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KeyProvider, keyRecordOf, registerProvider, unwrapFirst } from "@sealkit/envelope";
import { generateLocalKey, localKeyRef, localProvider } from "@sealkit/envelope/local";
import {
  getSecret,
  initStore,
  readStoreFile,
  rekeyRecords,
  rekeyStore,
  rotateStore,
  setSecrets,
  verifyStore,
} from "@sealkit/store";
import { beforeEach, describe, expect, it } from "vitest";
import { versionedProvider } from "../../../test/support/versioned-provider.js";

const te = new TextEncoder();
const td = new TextDecoder();
const keyA = generateLocalKey();
const keyB = generateLocalKey();
/** A second local master key, registered under its own provider id. */
const localB = (key: Uint8Array): KeyProvider => ({ ...localProvider({ key }), id: "local-b" });

const VALUES: Record<string, string> = { "db-password": "hunter2-correct-horse", "api.key": "sk_live_abcdefgh", token: "t0k3n-value" };

let path: string;
beforeEach(async () => {
  registerProvider(localProvider({ key: keyA }));
  registerProvider(localB(keyB));
  path = join(await mkdtemp(join(tmpdir(), "sk-life-")), "sealkit.secrets.json");
  await initStore({ path, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(path, new Map(Object.entries(VALUES).map(([k, v]) => [k, te.encode(v)])));
});

async function values(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of Object.keys(VALUES)) out[n] = td.decode(await getSecret(path, n));
  return out;
}

describe("rekey on the local provider", () => {
  it("re-wraps the data key: new wrapped bytes, same key, values and generation untouched", async () => {
    const before = await readStoreFile(path);
    const r = await rekeyStore(path);
    const after = await readStoreFile(path);
    expect(r.steps).toEqual([expect.objectContaining({ action: "refresh", provider: "local", method: "unwrap-wrap" })]);
    expect(after.keys[0]?.wrapped).not.toBe(before.keys[0]?.wrapped);
    expect(after.keys[0]?.keyRef).toBe(localKeyRef(keyA));
    expect(after.generation).toBe(before.generation);
    expect(after.dataKeyCreatedAt).toBe(before.dataKeyCreatedAt);
    expect(after.secrets).toEqual(before.secrets);
    expect(await values()).toEqual(VALUES);
  });

  it("adds a second master key, removes the first, and the store opens under the second alone", async () => {
    await rekeyStore(path, { add: [{ provider: "local-b", keyRef: "local" }] });
    let s = await readStoreFile(path);
    expect(s.keys.map((k) => k.provider)).toEqual(["local", "local-b"]);
    expect((await verifyStore(path)).keys.every((k) => k.ok)).toBe(true);
    await rekeyStore(path, { remove: [`local:${localKeyRef(keyA)}`] });
    s = await readStoreFile(path);
    expect(s.keys.map((k) => k.provider)).toEqual(["local-b"]);
    // The first master key is gone: a wrong "local" key changes nothing.
    registerProvider(localProvider({ key: generateLocalKey() }));
    expect(await values()).toEqual(VALUES);
  });

  it("refuses to remove the last key and names an unknown one", async () => {
    const text = readFileSync(path, "utf8");
    await expect(rekeyStore(path, { remove: [localKeyRef(keyA)] })).rejects.toMatchObject({ code: "E_INPUT", message: expect.stringContaining("last master key") });
    await expect(rekeyStore(path, { remove: ["local:nope"] })).rejects.toMatchObject({ code: "E_NOT_FOUND" });
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  it("--to-key moves to another key (and provider); --dry-run writes nothing", async () => {
    const text = readFileSync(path, "utf8");
    const dry = await rekeyStore(path, { to: [{ provider: "local-b", keyRef: "local" }], dryRun: true });
    expect(dry.steps.map((s) => s.action)).toEqual(["remove", "add"]);
    expect(readFileSync(path, "utf8")).toBe(text);
    await rekeyStore(path, { to: [{ provider: "local-b", keyRef: "local" }] });
    expect((await readStoreFile(path)).keys.map((k) => [k.provider, k.keyRef])).toEqual([["local-b", localKeyRef(keyB)]]);
    registerProvider(localProvider({ key: generateLocalKey() }));
    expect(await values()).toEqual(VALUES);
  });
});

describe("rotate", () => {
  it("makes a new data key, re-seals every value, increments the generation", async () => {
    const before = await readStoreFile(path);
    const r = await rotateStore(path);
    const after = await readStoreFile(path);
    expect(r.generation).toBe(before.generation + 1);
    expect(after.generation).toBe(before.generation + 1);
    expect(after.keys[0]?.context["sealkit:generation"]).toBe(String(after.generation));
    for (const n of Object.keys(VALUES)) {
      expect(after.secrets[n]?.ciphertext).not.toBe(before.secrets[n]?.ciphertext);
      expect(after.secrets[n]?.updatedAt).toBe(before.secrets[n]?.updatedAt);
    }
    expect(Date.parse(after.dataKeyCreatedAt)).toBeGreaterThanOrEqual(Date.parse(before.dataKeyCreatedAt));
    expect(await values()).toEqual(VALUES);
    // The old data key does not open the new envelopes: it really is a new key.
    const oldKey = (await unwrapFirst(before.keys)).dataKey;
    const newKey = (await unwrapFirst(after.keys)).dataKey;
    expect(Buffer.from(oldKey).equals(Buffer.from(newKey))).toBe(false);
  });

  it("--dry-run writes nothing", async () => {
    const text = readFileSync(path, "utf8");
    const r = await rotateStore(path, { dryRun: true });
    expect(r.generation).toBe(2);
    expect(r.resealed.sort()).toEqual(Object.keys(VALUES).sort());
    expect(readFileSync(path, "utf8")).toBe(text);
  });
});

describe("a versioned key service with server-side re-wrap", () => {
  it("rekey uses rewrap, and key-service calls do not grow with the number of secrets", async () => {
    const v = versionedProvider("versioned");
    v.createKey("key-1");
    registerProvider(v.provider);
    const p = join(await mkdtemp(join(tmpdir(), "sk-ver-")), "s.json");
    await initStore({ path: p, masterKeys: [{ provider: "versioned", keyRef: "key-1" }] });
    const many = new Map<string, Uint8Array>();
    for (let i = 0; i < 1000; i++) many.set(`s${i}`, te.encode(`value-${i}-xxxxxxxx`));
    await setSecrets(p, many);
    v.rotateKey("key-1");
    v.resetCalls();
    const r = await rekeyStore(p);
    expect(r.steps[0]?.method).toBe("server-rewrap");
    // one unwrap (to verify against), one server-side rewrap, one unwrap of the new wrap
    expect(v.calls).toEqual({ wrap: 0, unwrap: 2, rewrap: 1 });
    const s = await readStoreFile(p);
    expect(v.versionOf(s.keys[0]?.wrapped as string)).toBe(1);
    v.resetCalls();
    await rotateStore(p);
    expect(v.calls).toEqual({ wrap: 1, unwrap: 2, rewrap: 0 });
    expect(td.decode(await getSecret(p, "s999"))).toBe("value-999-xxxxxxxx");
  });

  it("an old record keeps working while its key version is enabled, fails with E_KEY_DISABLED after, and a re-keyed one works", async () => {
    const v = versionedProvider("versioned2");
    v.createKey("k");
    registerProvider(v.provider);
    const p = join(await mkdtemp(join(tmpdir(), "sk-ver-")), "s.json");
    await initStore({ path: p, masterKeys: [{ provider: "versioned2", keyRef: "k" }] });
    const oldRecord = keyRecordOf(await readStoreFile(p)); // what an already-built bundle carries
    v.rotateKey("k");
    await rekeyStore(p);
    const newRecord = keyRecordOf(await readStoreFile(p));
    (await unwrapFirst(oldRecord.keys)).dataKey.fill(0);
    // The bundle is re-keyed in place (what `rekey --bundle` does), before the old version goes.
    const rekeyed = await rekeyRecords(oldRecord.keys, [{ action: "refresh", provider: "versioned2", keyRef: "k" }], oldRecord);
    v.disableVersion("k", 0);
    await expect(unwrapFirst(oldRecord.keys)).rejects.toMatchObject({ code: "E_KEY_DISABLED" });
    (await unwrapFirst(newRecord.keys)).dataKey.fill(0);
    (await unwrapFirst(rekeyed.keys)).dataKey.fill(0);
  });
});
