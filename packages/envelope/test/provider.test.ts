import { createCipheriv } from "node:crypto";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type KeyProvider,
  SealkitError,
  getProvider,
  guardProvider,
  newDataKey,
  registerProvider,
  unregisterProvider,
  unwrapFirst,
  wrapContext,
} from "@sealkit/envelope";
import { generateLocalKey, keyCheckValue, localProvider, writeLocalKeyFile } from "@sealkit/envelope/local";
// The portable binding, without the portable entry's registration side effect.
import * as nobleLocal from "../src/_local-noble.js";

const ctx = wrapContext("AAAAAAAAAAAAAAAAAAAAAA", 1);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SealkitError);
    return (e as SealkitError).code;
  }
  throw new Error("expected a rejection");
}

describe("local provider", () => {
  const key = generateLocalKey();
  const p = guardProvider(localProvider({ key }));

  it("wraps and unwraps, pinning the key check value", async () => {
    const dk = newDataKey();
    const rec = await p.wrapKey(dk, { keyRef: "local", context: ctx });
    expect(rec.keyRef).toBe(`local:${keyCheckValue(key)}`);
    expect(await p.unwrapKey(rec)).toEqual(dk);
  });

  it("refuses another context (store or generation)", async () => {
    const rec = await p.wrapKey(newDataKey(), { keyRef: "local", context: ctx });
    expect(await codeOf(p.unwrapKey({ ...rec, context: wrapContext("AAAAAAAAAAAAAAAAAAAAAA", 2) }))).toBe("E_AUTH");
  });

  it("reports a different master key as a key mismatch, not as tampering", async () => {
    const rec = await p.wrapKey(newDataKey(), { keyRef: "local", context: ctx });
    const other = guardProvider(localProvider({ key: generateLocalKey() }));
    const err = await other.unwrapKey(rec).catch((e) => e);
    expect(err.code).toBe("E_KEY_PINNING");
    expect(err.message).toContain(rec.keyRef);
  });

  it("says how to supply a missing key", async () => {
    const none = guardProvider(localProvider({ keyFile: "/nonexistent/local.key", source: async () => undefined }));
    const err = await none.wrapKey(newDataKey(), { keyRef: "local", context: ctx }).catch((e) => e);
    expect(err.code).toBe("E_CONFIG");
    expect(err.message).toMatch(/SEALKIT_LOCAL_KEY/);
    expect(err.message).toMatch(/sealkit init/);
  });

  it("reads the key file, and refuses one that others can read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sk-key-"));
    const file = join(dir, "k", "local.key");
    const { keyRef } = await writeLocalKeyFile(file);
    const fromFile = guardProvider(localProvider({ keyFile: file }));
    const saved = process.env.SEALKIT_LOCAL_KEY;
    delete process.env.SEALKIT_LOCAL_KEY;
    try {
      const rec = await fromFile.wrapKey(newDataKey(), { keyRef: "local", context: ctx });
      expect(rec.keyRef).toBe(keyRef);
      await expect(writeLocalKeyFile(file)).rejects.toMatchObject({ code: "E_CONFIG" });
      chmodSync(file, 0o644);
      const err = await fromFile.unwrapKey(rec).catch((e) => e);
      expect(err.code).toBe("E_CONFIG");
      expect(err.message).toContain("chmod 600");
      chmodSync(file, 0o600);
      writeFileSync(file, "not base64!\n", { mode: 0o600 });
      expect((await fromFile.unwrapKey(rec).catch((e) => e)).code).toBe("E_CONFIG");
    } finally {
      if (saved !== undefined) process.env.SEALKIT_LOCAL_KEY = saved;
    }
  });
});

describe("local provider: the Node entry (node:crypto) and the portable one (@noble/ciphers) agree", () => {
  it("same key check values, and each unwraps what the other wrapped; a flipped bit fails both", async () => {
    for (let i = 0; i < 25; i++) {
      const key = generateLocalKey();
      expect(keyCheckValue(key)).toBe(nobleLocal.keyCheckValue(key));
      const onNode = guardProvider(localProvider({ key }));
      const portable = guardProvider(nobleLocal.localProvider({ key }));
      const dk = newDataKey();
      const c = wrapContext("AAAAAAAAAAAAAAAAAAAAAA", i + 1);
      const a = await onNode.wrapKey(dk, { keyRef: "local", context: c });
      const b = await portable.wrapKey(dk, { keyRef: "local", context: c });
      expect(await portable.unwrapKey(a)).toEqual(dk);
      expect(await onNode.unwrapKey(b)).toEqual(dk);
      const bytes = Uint8Array.from(atob(a.wrapped), (ch) => ch.charCodeAt(0));
      const at = i % bytes.length;
      bytes[at] = (bytes[at] as number) ^ (1 << (i % 8));
      const flipped = { ...a, wrapped: btoa(String.fromCharCode(...bytes)) };
      expect(await codeOf(onNode.unwrapKey(flipped))).toBe("E_AUTH");
      expect(await codeOf(portable.unwrapKey(flipped))).toBe("E_AUTH");
    }
  });

  it("the key check value is the first 4 bytes of AES-256-ECB(key, 0^128) (NIST SP 800-38A F.1.5 key)", () => {
    const key = Uint8Array.from(Buffer.from("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "hex"));
    // AES-256-ECB(key, 0^128) by OpenSSL (through node:crypto), against which noble is independent
    const expected = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false).update(Buffer.alloc(16)).subarray(0, 4).toString("hex");
    expect(keyCheckValue(key)).toBe(expected);
    expect(nobleLocal.keyCheckValue(key)).toBe(expected);
  });
});

describe("provider guard and registry", () => {
  const fake = (over: Partial<KeyProvider>): KeyProvider => ({
    id: "fake",
    wrap: async (dk) => ({ wrapped: dk.slice() }),
    unwrap: async (w) => w.slice(),
    ...over,
  });

  it("checks the data key length in and out", async () => {
    const g = guardProvider(fake({ unwrap: async () => new Uint8Array(31) }));
    await expect(g.wrapKey(new Uint8Array(16), { keyRef: "k", context: ctx })).rejects.toBeInstanceOf(RangeError);
    const rec = await g.wrapKey(newDataKey(), { keyRef: "k", context: ctx });
    expect(await codeOf(g.unwrapKey(rec))).toBe("E_PROVIDER");
  });

  it("refuses a record of another provider", async () => {
    const g = guardProvider(fake({}));
    const rec = await g.wrapKey(newDataKey(), { keyRef: "k", context: ctx });
    expect(await codeOf(g.unwrapKey({ ...rec, provider: "local" }))).toBe("E_CONFIG");
  });

  it("turns foreign errors into typed ones, aborts into E_TIMEOUT", async () => {
    const g = guardProvider(
      fake({
        unwrap: async (_w, call) => {
          if (call.keyRef === "abort") throw Object.assign(new Error("aborted"), { name: "AbortError" });
          throw new Error("boom");
        },
      }),
    );
    const rec = await g.wrapKey(newDataKey(), { keyRef: "k", context: ctx });
    expect(await codeOf(g.unwrapKey(rec))).toBe("E_PROVIDER");
    expect(await codeOf(g.unwrapKey({ ...rec, keyRef: "abort" }))).toBe("E_TIMEOUT");
  });

  it("loads lazily, reports unknown providers, and falls back across records", async () => {
    let loads = 0;
    registerProvider({
      id: "lazy-test",
      load: async () => {
        loads++;
        return fake({ id: "lazy-test" });
      },
    });
    expect(loads).toBe(0);
    const g = await getProvider("lazy-test");
    await getProvider("lazy-test");
    expect(loads).toBe(1);
    expect(await codeOf(getProvider("nope"))).toBe("E_CONFIG");
    const dk = newDataKey();
    const good = await g.wrapKey(dk, { keyRef: "k", context: ctx });
    const r = await unwrapFirst([{ ...good, provider: "nope" }, good]);
    expect(r.index).toBe(1);
    expect(r.dataKey).toEqual(dk);
    unregisterProvider("lazy-test");
  });
});
