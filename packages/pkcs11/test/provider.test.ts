import { OPEN_FAILED, type SealkitError, guardProvider, newDataKey, toBase64, wrapContext } from "@sealkit/envelope";
import { createMasterKey, formatKeyRef } from "@sealkit/pkcs11";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type TestToken, createToken, describeHsm } from "../../../test/support/softhsm.js";
import { type Pkcs11Provider, WRAPPED_BYTES, create } from "../src/provider.js";
import { ckrOf, counting, rawSession } from "./_helpers.js";

const ctx = wrapContext("AAAAAAAAAAAAAAAAAAAAAA", 1);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return (e as SealkitError).code ?? String(e);
  }
}

describeHsm("pkcs11 provider against SoftHSM2", () => {
  let token: TestToken;
  let k1: string;
  let k2: string;
  const providers: Pkcs11Provider[] = [];
  const provider = (opts: Parameters<typeof create>[0] = {}) => {
    const p = create({ module: token.module, pin: token.pin, ...opts });
    providers.push(p);
    return p;
  };

  beforeEach(async () => {
    token = createToken();
    k1 = (await createMasterKey({ module: token.module, token: token.label, label: "master-1", pin: token.pin })).keyRef;
    k2 = (await createMasterKey({ module: token.module, token: token.label, label: "master-2", pin: token.pin })).keyRef;
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.dispose()));
    token.cleanup();
  });

  it("wraps and unwraps a data key, bound to the context, in the documented 61-byte format", async () => {
    expect(k1).toBe(`pkcs11:token=${token.label};object=master-1`);
    const p = provider();
    const dataKey = newDataKey();
    const { wrapped, keyRef } = await p.wrap(dataKey, { keyRef: k1, context: ctx });
    expect(keyRef).toBe(k1);
    expect(wrapped.length).toBe(WRAPPED_BYTES);
    expect(wrapped[0]).toBe(1);
    expect(Buffer.from(wrapped).includes(Buffer.from(dataKey))).toBe(false);
    expect(await p.unwrap(wrapped, { keyRef: k1, context: ctx })).toEqual(dataKey);
    // Moved to another store or generation: the AAD differs, the token refuses.
    expect(await codeOf(p.unwrap(wrapped, { keyRef: k1, context: wrapContext("AAAAAAAAAAAAAAAAAAAAAA", 2) }))).toBe("E_AUTH");
  });

  it("rekeys between two keys through the contract (unwrap under one, wrap under another)", async () => {
    const g = guardProvider(provider());
    const dataKey = newDataKey();
    const r1 = await g.wrapKey(dataKey, { keyRef: k1, context: ctx });
    const opened = await g.unwrapKey(r1);
    const r2 = await g.wrapKey(opened, { keyRef: k2, context: ctx });
    expect(r2.keyRef).toBe(k2);
    expect(r2.wrapped).not.toBe(r1.wrapped);
    expect(await g.unwrapKey(r2)).toEqual(dataKey);
    // Each wrap opens only under its own key.
    await expect(g.unwrapKey({ ...r2, keyRef: k1 })).rejects.toMatchObject({ code: "E_AUTH", message: OPEN_FAILED });
    await expect(g.unwrapKey({ ...r1, keyRef: k2 })).rejects.toMatchObject({ code: "E_AUTH" });
  });

  it("creates keys that cannot be extracted: reading, wrapping out and unlocking all fail", async () => {
    const raw = rawSession(token.module, token.label, token.pin);
    try {
      const { P, lib, session } = raw;
      const key = raw.findKey("master-1");
      const attrs = lib.C_GetAttributeValue(session, key, [
        { type: P.CKA_SENSITIVE },
        { type: P.CKA_EXTRACTABLE },
        { type: P.CKA_TOKEN },
        { type: P.CKA_MODIFIABLE },
      ]);
      expect(attrs.map((a) => a.value[0])).toEqual([1, 0, 1, 0]);
      expect(ckrOf(() => lib.C_GetAttributeValue(session, key, [{ type: P.CKA_VALUE }]))).toBe("CKR_ATTRIBUTE_SENSITIVE");
      const wrappingKey = lib.C_GenerateKey(session, { mechanism: P.CKM_AES_KEY_GEN }, [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
        { type: P.CKA_VALUE_LEN, value: 32 },
        { type: P.CKA_TOKEN, value: false },
        { type: P.CKA_WRAP, value: true },
      ]);
      for (const mechanism of [P.CKM_AES_KEY_WRAP, P.CKM_AES_KEY_WRAP_PAD]) {
        expect(ckrOf(() => lib.C_WrapKey(session, { mechanism }, wrappingKey, key, Buffer.alloc(256)))).toBe("CKR_KEY_UNEXTRACTABLE");
      }
      expect(ckrOf(() => lib.C_SetAttributeValue(session, key, [{ type: P.CKA_EXTRACTABLE, value: true }]))).toMatch(/^(CKR_ATTRIBUTE_READ_ONLY|CKR_ACTION_PROHIBITED)$/);
      expect(ckrOf(() => lib.C_SetAttributeValue(session, key, [{ type: P.CKA_SENSITIVE, value: false }]))).toMatch(/^(CKR_ATTRIBUTE_READ_ONLY|CKR_ACTION_PROHIBITED)$/);
      // CKA_ALLOWED_MECHANISMS = [CKM_AES_GCM]: no ECB oracle on the master key.
      expect(ckrOf(() => lib.C_EncryptInit(session, { mechanism: P.CKM_AES_ECB }, key))).toBe("CKR_MECHANISM_INVALID");
    } finally {
      raw.close();
    }
  });

  it("refuses to wrap a data key under an extractable, non-sensitive key", async () => {
    const raw = rawSession(token.module, token.label, token.pin);
    try {
      const { P, lib, session } = raw;
      lib.C_GenerateKey(session, { mechanism: P.CKM_AES_KEY_GEN }, [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
        { type: P.CKA_VALUE_LEN, value: 32 },
        { type: P.CKA_TOKEN, value: true },
        { type: P.CKA_EXTRACTABLE, value: true },
        { type: P.CKA_SENSITIVE, value: false },
        { type: P.CKA_ENCRYPT, value: true },
        { type: P.CKA_DECRYPT, value: true },
        { type: P.CKA_LABEL, value: "weak" },
      ]);
    } finally {
      raw.close();
    }
    const p = provider();
    const weak = formatKeyRef({ token: token.label, object: "weak" });
    await expect(p.wrap(newDataKey(), { keyRef: weak, context: ctx })).rejects.toMatchObject({ code: "E_CONFIG", message: /extractable/ });
  });

  it("maps wrong PIN, missing PIN, missing token, missing key and missing module to their codes, without the PIN", async () => {
    const dataKey = newDataKey();
    const wrongPin = "9999-wrong";
    const c = counting();
    const wrong = provider({ pin: wrongPin, instrument: c.instrument });
    const e = await wrong.wrap(dataKey, { keyRef: k1, context: ctx }).catch((x: SealkitError) => x);
    // A rejected PIN is not tried again (per key, per call): that would walk into the lockout.
    expect(await codeOf(wrong.wrap(dataKey, { keyRef: k2, context: ctx }))).toBe("E_ACCESS_DENIED");
    expect(c.counts.C_Login).toBe(1);
    expect((e as SealkitError).code).toBe("E_ACCESS_DENIED");
    expect((e as SealkitError).message).toMatch(/CKR_PIN_INCORRECT.*SEALKIT_PKCS11_PIN/);
    expect(JSON.stringify(e) + String((e as Error).stack)).not.toContain(wrongPin);

    const saved = { pin: process.env.SEALKIT_PKCS11_PIN, file: process.env.SEALKIT_PKCS11_PIN_FILE };
    delete process.env.SEALKIT_PKCS11_PIN;
    delete process.env.SEALKIT_PKCS11_PIN_FILE;
    try {
      expect(await codeOf(provider({ pin: undefined }).wrap(dataKey, { keyRef: k1, context: ctx }))).toBe("E_CREDENTIALS");
    } finally {
      if (saved.pin !== undefined) process.env.SEALKIT_PKCS11_PIN = saved.pin;
      if (saved.file !== undefined) process.env.SEALKIT_PKCS11_PIN_FILE = saved.file;
    }

    const p = provider();
    const noToken = formatKeyRef({ token: "no-such-token", object: "master-1" });
    const t = await p.wrap(dataKey, { keyRef: noToken, context: ctx }).catch((x: SealkitError) => x);
    expect((t as SealkitError).code).toBe("E_CONFIG");
    expect((t as SealkitError).message).toContain(`tokens present: "${token.label}"`);
    const noKey = formatKeyRef({ token: token.label, object: "no-such-key" });
    const k = await p.unwrap(new Uint8Array(WRAPPED_BYTES).fill(1, 0, 1), { keyRef: noKey, context: ctx }).catch((x: SealkitError) => x);
    expect((k as SealkitError).code).toBe("E_NOT_FOUND");
    expect((k as SealkitError).message).toContain("sealkit hsm create-key");
    expect(await codeOf(provider({ module: "/nonexistent/libnothing.so" }).wrap(dataKey, { keyRef: k1, context: ctx }))).toBe("E_CONFIG");
    expect(await codeOf(p.wrap(dataKey, { keyRef: "pkcs11:token=a;object=b?pin-value=1234", context: ctx }))).toBe("E_CONFIG");
  });

  it("a tampered, truncated or re-versioned wrapped key never opens (E_AUTH)", async () => {
    const p = provider();
    const dataKey = newDataKey();
    const { wrapped } = await p.wrap(dataKey, { keyRef: k1, context: ctx });
    for (const i of [0, 1, 12, 13, 30, 44, 45, WRAPPED_BYTES - 1]) {
      const bad = wrapped.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      const e = await p.unwrap(bad, { keyRef: k1, context: ctx }).catch((x: SealkitError) => x);
      expect((e as SealkitError).code, `byte ${i}`).toBe("E_AUTH");
      expect((e as SealkitError).message).toBe(OPEN_FAILED);
    }
    expect(await codeOf(p.unwrap(wrapped.subarray(0, 60), { keyRef: k1, context: ctx }))).toBe("E_AUTH");
    // The token still works after the failures (the session was not poisoned).
    expect(await p.unwrap(wrapped, { keyRef: k1, context: ctx })).toEqual(dataKey);
  });

  it("opens one session and logs in once for concurrent cold unwraps, reuses it warm, closes it on dispose", async () => {
    const setup = provider();
    const keys = Array.from({ length: 8 }, () => newDataKey());
    const wraps = await Promise.all(keys.map((k) => setup.wrap(k, { keyRef: k1, context: ctx })));
    const c = counting();
    const p = provider({ instrument: c.instrument });
    const out = await Promise.all(wraps.map((w) => p.unwrap(w.wrapped, { keyRef: k1, context: ctx })));
    expect(out.map((k) => toBase64(k))).toEqual(keys.map((k) => toBase64(k)));
    expect(c.counts.C_OpenSession).toBe(1);
    expect(c.counts.C_Login).toBe(1);
    expect(c.counts.C_FindObjectsInit).toBe(1);
    expect(c.counts.C_DecryptAsync).toBe(8);
    await p.unwrap(wraps[0]?.wrapped as Uint8Array, { keyRef: k1, context: ctx });
    expect(c.counts.C_Login).toBe(1);
    await p.dispose();
    expect(c.counts.C_CloseSession).toBe(1);
  });

  it("recovers once when the HSM dropped the session under a warm process", async () => {
    const c = counting();
    const p = provider({ instrument: c.instrument });
    const dataKey = newDataKey();
    const { wrapped } = await p.wrap(dataKey, { keyRef: k1, context: ctx });
    const real = c.real();
    const slot = real.C_GetSlotList(true).find((s) => real.C_GetTokenInfo(s).label.trim() === token.label) as Buffer;
    real.C_CloseAllSessions(slot); // as a reconnecting HSM client would
    expect(await p.unwrap(wrapped, { keyRef: k1, context: ctx })).toEqual(dataKey);
    expect(c.counts.C_OpenSession).toBe(2);
  });
});
