import { createCipheriv } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  OPEN_FAILED,
  SealkitError,
  decodeEnvelope,
  decodeKeyRecord,
  encodeEnvelope,
  encodeKeyRecord,
  newDataKey,
  newStoreId,
  openText,
  openValue,
  sealValue,
  valueAad,
} from "@sealkit/envelope";

const addr = { storeId: newStoreId(), generation: 1, name: "db-password" };

function expectOpenFailed(fn: () => unknown) {
  let err: unknown;
  let out: unknown;
  try {
    out = fn();
  } catch (e) {
    err = e;
  }
  expect(out).toBeUndefined();
  expect(err).toBeInstanceOf(SealkitError);
  expect((err as SealkitError).code).toBe("E_AUTH");
  expect((err as SealkitError).message).toBe(OPEN_FAILED);
}

describe("seal/open", () => {
  it("round-trips any bytes (property)", () => {
    const key = newDataKey();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (value) => {
        const env = sealValue(key, addr, value);
        expect(openValue(key, env)).toEqual(value);
        expect(openValue(key, decodeEnvelope(encodeEnvelope(env)))).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips any unicode string (property), including empty", () => {
    const key = newDataKey();
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (value) => {
        expect(openText(key, sealValue(key, addr, value))).toBe(value);
      }),
      { numRuns: 300 },
    );
    expect(openText(key, sealValue(key, addr, ""))).toBe("");
  });

  it("round-trips a 1 MiB value", () => {
    const key = newDataKey();
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    expect(openValue(key, sealValue(key, addr, big))).toEqual(big);
  });

  it("uses a fresh 96-bit nonce each time", () => {
    const key = newDataKey();
    const a = sealValue(key, addr, "x");
    const b = sealValue(key, addr, "x");
    expect(a.nonce).toHaveLength(12);
    expect(a.nonce).not.toEqual(b.nonce);
  });

  it("matches node:crypto AES-256-GCM byte for byte", () => {
    const key = newDataKey();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (value) => {
        const env = sealValue(key, addr, value);
        const c = createCipheriv("aes-256-gcm", key, env.nonce);
        c.setAAD(valueAad(addr));
        const expected = Buffer.concat([c.update(value), c.final(), c.getAuthTag()]);
        expect(Buffer.from(env.sealed)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});

describe("tamper", () => {
  const key = newDataKey();
  const env = sealValue(key, addr, "correct horse battery staple");

  it("every single-bit flip of nonce, ciphertext or tag fails with the typed error", () => {
    for (const field of ["nonce", "sealed"] as const) {
      const bytes = env[field];
      for (let i = 0; i < bytes.length * 8; i++) {
        const copy = bytes.slice();
        copy[i >> 3] = (copy[i >> 3] as number) ^ (1 << (i & 7));
        expectOpenFailed(() => openValue(key, { ...env, [field]: copy }));
      }
    }
  });

  it("a changed store id, generation or name fails", () => {
    expectOpenFailed(() => openValue(key, { ...env, storeId: newStoreId() }));
    expectOpenFailed(() => openValue(key, { ...env, generation: 2 }));
    expectOpenFailed(() => openValue(key, { ...env, name: "db-passwore" }));
    expectOpenFailed(() => openValue(key, { ...env, name: "api-token" }));
  });

  it("a wrong key, truncation or extension fails", () => {
    expectOpenFailed(() => openValue(newDataKey(), env));
    expectOpenFailed(() => openValue(key, { ...env, sealed: env.sealed.subarray(1) }));
    expectOpenFailed(() => openValue(key, { ...env, sealed: env.sealed.subarray(0, 15) }));
    const ext = new Uint8Array(env.sealed.length + 1);
    ext.set(env.sealed);
    expectOpenFailed(() => openValue(key, { ...env, sealed: ext }));
  });

  it("the error never carries key bytes or plaintext", () => {
    try {
      openValue(newDataKey(), env);
    } catch (e) {
      const text = JSON.stringify(e) + String(e) + (e as Error).stack;
      expect(text).not.toContain("correct horse");
    }
  });
});

describe("canonical encodings", () => {
  it("refuses a non-canonical base64url tail, so no second text decodes to the same envelope", () => {
    const key = newDataKey();
    const text = encodeEnvelope(sealValue(key, addr, "x")); // 17 sealed bytes: the last char has 2 unused bits
    const last = text.at(-1) as string;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const i = alphabet.indexOf(last);
    const sibling = alphabet[i ^ 1] as string; // differs only in an unused low bit
    expect(() => decodeEnvelope(text.slice(0, -1) + sibling)).toThrow(SealkitError);
    expect(openText(key, decodeEnvelope(text))).toBe("x");
  });

  it("refuses a non-canonical version in envelopes and data-key records (found by the tamper fuzzer: sealkit:01:…)", () => {
    const text = encodeEnvelope(sealValue(newDataKey(), addr, "x"));
    for (const v of ["01", "1.0", "+1", " 1", "1e0", "0x1"]) {
      const err = (() => {
        try {
          decodeEnvelope(text.replace(/^sealkit:1:/, `sealkit:${v}:`));
        } catch (e) {
          return e;
        }
      })();
      expect((err as SealkitError)?.code, v).toBe("E_FORMAT");
    }
    const record = encodeKeyRecord({ version: 1, storeId: addr.storeId, generation: 1, keys: [] });
    expect(() => decodeKeyRecord(record.replace(/^sealkit-key:1:/, "sealkit-key:01:"))).toThrow(/unsupported data-key record version "01"/);
  });
});
