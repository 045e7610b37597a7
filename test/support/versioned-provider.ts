import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { type KeyProvider, SealkitError, contextAad } from "@sealkit/envelope";

function gcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
  const c = createCipheriv("aes-256-gcm", key, nonce).setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

function gcmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  const d = createDecipheriv("aes-256-gcm", key, nonce).setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return new Uint8Array(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]));
}

/**
 * A test double of a versioned key service (the shape of AWS KMS with automatic rotation):
 * a key has numbered versions, `wrap` uses the current one, the wrapped blob names the
 * version it was made under, `rewrap` re-encrypts on the "server" without returning the data
 * key, and a version can be disabled. It honours the provider contract only, so every
 * lifecycle test written against it holds for any provider that does the same.
 */
export function versionedProvider(id: string) {
  const versions = new Map<string, { key: Uint8Array; enabled: boolean }[]>();
  const calls = { wrap: 0, unwrap: 0, rewrap: 0 };
  const keyOf = (keyRef: string) => {
    const v = versions.get(keyRef);
    if (!v) throw new SealkitError("E_NOT_FOUND", `no key ${keyRef}`);
    return v;
  };
  const seal = (keyRef: string, dataKey: Uint8Array, ctx: Record<string, string>) => {
    const v = keyOf(keyRef);
    const n = v.length - 1;
    const nonce = randomBytes(12);
    const ct = gcmSeal((v[n] as { key: Uint8Array }).key, nonce, contextAad(ctx), dataKey);
    return Uint8Array.from([n, ...nonce, ...ct]);
  };
  const open = (keyRef: string, wrapped: Uint8Array, ctx: Record<string, string>) => {
    const v = keyOf(keyRef)[wrapped[0] as number];
    if (!v) throw new SealkitError("E_AUTH", "no such key version");
    if (!v.enabled) throw new SealkitError("E_KEY_DISABLED", `key version ${wrapped[0]} of ${keyRef} is disabled`);
    try {
      return gcmOpen(v.key, wrapped.subarray(1, 13), contextAad(ctx), wrapped.subarray(13));
    } catch {
      throw new SealkitError("E_AUTH", "invalid ciphertext");
    }
  };
  const provider: KeyProvider = {
    id,
    async wrap(dataKey, call) {
      calls.wrap++;
      return { wrapped: seal(call.keyRef, dataKey, call.context) };
    },
    async unwrap(wrapped, call) {
      calls.unwrap++;
      return open(call.keyRef, wrapped, call.context);
    },
    async rewrap(wrapped, call) {
      calls.rewrap++;
      const dk = open(call.keyRef, wrapped, call.context);
      try {
        return { wrapped: seal(call.toKeyRef, dk, call.context), keyRef: call.toKeyRef };
      } finally {
        dk.fill(0);
      }
    },
  };
  return {
    provider,
    calls,
    createKey(keyRef: string) {
      versions.set(keyRef, [{ key: randomBytes(32), enabled: true }]);
    },
    /** Automatic rotation: a new current version; old ones still decrypt while enabled. */
    rotateKey(keyRef: string) {
      keyOf(keyRef).push({ key: randomBytes(32), enabled: true });
    },
    disableVersion(keyRef: string, n: number) {
      (keyOf(keyRef)[n] as { enabled: boolean }).enabled = false;
    },
    versionOf(wrappedB64: string) {
      return Buffer.from(wrappedB64, "base64")[0];
    },
    resetCalls() {
      calls.wrap = calls.unwrap = calls.rewrap = 0;
    },
  };
}
