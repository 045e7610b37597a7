/**
 * The PKCS#11 key provider. The master key is an AES-256 key inside the token
 * (CKA_SENSITIVE, not CKA_EXTRACTABLE); the data key is wrapped with CKM_AES_GCM through
 * C_Encrypt and unwrapped through C_Decrypt, with the wrap context as GCM AAD.
 *
 * Wrapped form (61 bytes): version 0x01 || IV (12) || ciphertext (32) || tag (16).
 * Why GCM through C_Encrypt rather than CKM_AES_KEY_WRAP_PAD through C_WrapKey: KWP
 * (RFC 5649) cannot authenticate the context, so a data key could be moved between stores;
 * and C_WrapKey/C_UnwrapKey would need the data key as a token object, although the
 * runtime needs its bytes in memory anyway. See docs/providers/pkcs11.md.
 */
import { randomBytes } from "node:crypto";
import { type KeyProvider, type ProviderCall, SealkitError, contextAad, isSealkitError, openFailed } from "@sealkit/envelope";
import { isSessionLost } from "./_errors.js";
import { type LibraryLease, type Pkcs11Api, acquireLibrary } from "./_library.js";
import { GCM_TAG_BITS, TokenSession } from "./_session.js";
import { resolveModule } from "./config.js";
import { PKCS11_PROVIDER_ID, type Pkcs11KeyRef, formatKeyRef, parseKeyRef } from "./keyref.js";
import type { Pkcs11ProviderOptions } from "./options.js";

/** NIST SP 800-38D §8.2: a 96-bit IV; a fresh random one per wrap. */
const IV_BYTES = 12;
const DATA_KEY_BYTES = 32;
const FORMAT = 0x01;
export const WRAPPED_BYTES = 1 + IV_BYTES + DATA_KEY_BYTES + GCM_TAG_BITS / 8;

/** A PKCS#11 provider: the KeyProvider contract plus `dispose()`, which logs out by closing its sessions. */
export interface Pkcs11Provider extends KeyProvider {
  dispose(): Promise<void>;
}

export function create(options: Pkcs11ProviderOptions = {}): Pkcs11Provider {
  let lease: LibraryLease | undefined;
  let api: Pkcs11Api | undefined;
  const sessions = new Map<string, TokenSession>();

  const session = (token: string): TokenSession => {
    if (!lease) {
      lease = acquireLibrary(resolveModule(options.module));
      api = options.instrument ? options.instrument(lease.api) : lease.api;
    }
    let s = sessions.get(token);
    if (!s) {
      s = new TokenSession(api as Pkcs11Api, lease.module, token, options.pin);
      sessions.set(token, s);
    }
    return s;
  };

  /*
   * Runs `fn` on the token's session. When the session turned out to be gone (HSM
   * reconnect, session timeout), opens a new one and tries once more. Never retries a
   * login failure: repeated wrong PINs lock the token.
   */
  const withToken = async <T>(ref: Pkcs11KeyRef, call: ProviderCall, fn: (s: TokenSession) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      call.signal?.throwIfAborted();
      const s = session(ref.token);
      try {
        return await fn(s);
      } catch (e) {
        if (isSessionLost(e) || (isSealkitError(e, "E_UNAVAILABLE") && e.details.provider === PKCS11_PROVIDER_ID)) s.reset();
        if (attempt === 0 && isSessionLost(e)) continue;
        throw e;
      }
    }
  };

  return {
    id: PKCS11_PROVIDER_ID,

    async wrap(dataKey, call) {
      const ref = parseKeyRef(call.keyRef);
      const keyRef = formatKeyRef(ref);
      return withToken(ref, call, async (s) => {
        const key = await s.key(ref.object, keyRef);
        /* Precondition: new data keys only go under a key that never leaves the token. */
        if (key.extractable || !key.sensitive) {
          throw new SealkitError(
            "E_CONFIG",
            `the key "${ref.object}" in token "${ref.token}" is ${key.extractable ? "extractable (CKA_EXTRACTABLE is true)" : "not sensitive (CKA_SENSITIVE is false)"}, so it could leave the HSM: Sealkit wraps only under non-extractable keys; create one with \`sealkit hsm create-key\``,
            { details: { provider: PKCS11_PROVIDER_ID, keyRef } },
          );
        }
        if (!key.canEncrypt) {
          throw new SealkitError("E_KEY_DISABLED", `the key "${ref.object}" in token "${ref.token}" may not encrypt (CKA_ENCRYPT is false)`, {
            details: { provider: PKCS11_PROVIDER_ID, keyRef },
          });
        }
        const iv = randomBytes(IV_BYTES);
        const aad = contextAad(call.context);
        const sealed = await s.encryptGcm(key, iv, aad, dataKey, keyRef);
        // Self-check: some HSMs (AWS CloudHSM) ignore the caller's GCM IV and use their own,
        // which would make this wrap unopenable. Refuse it with a message that says so.
        let back: Uint8Array | undefined;
        try {
          back = sealed.length === DATA_KEY_BYTES + GCM_TAG_BITS / 8 ? await s.decryptGcm(key, iv, aad, sealed, keyRef) : undefined;
        } catch (e) {
          if (!isSealkitError(e, "E_AUTH")) throw e;
        }
        const same = back?.length === dataKey.length && back.every((b, i) => b === dataKey[i]);
        back?.fill(0);
        if (!same) {
          throw new SealkitError(
            "E_CONFIG",
            `token "${ref.token}" did not encrypt with the IV Sealkit supplied (some HSMs, e.g. AWS CloudHSM, generate their own GCM IV): this token is not supported yet; see docs/providers/pkcs11.md`,
            { details: { provider: PKCS11_PROVIDER_ID, keyRef } },
          );
        }
        const wrapped = new Uint8Array(1 + IV_BYTES + sealed.length);
        wrapped[0] = FORMAT;
        wrapped.set(iv, 1);
        wrapped.set(sealed, 1 + IV_BYTES);
        return { wrapped, keyRef };
      });
    },

    async unwrap(wrapped, call) {
      const ref = parseKeyRef(call.keyRef);
      const keyRef = formatKeyRef(ref);
      /* Precondition: our format. Anything else is tampered or not ours, and opens nothing. */
      if (wrapped.length !== WRAPPED_BYTES || wrapped[0] !== FORMAT) throw openFailed({ provider: PKCS11_PROVIDER_ID, keyRef });
      const iv = Buffer.from(wrapped.subarray(1, 1 + IV_BYTES));
      const sealed = Buffer.from(wrapped.subarray(1 + IV_BYTES));
      return withToken(ref, call, async (s) => {
        const key = await s.key(ref.object, keyRef);
        if (!key.canDecrypt) {
          throw new SealkitError("E_KEY_DISABLED", `the key "${ref.object}" in token "${ref.token}" may not decrypt (CKA_DECRYPT is false)`, {
            details: { provider: PKCS11_PROVIDER_ID, keyRef },
          });
        }
        return s.decryptGcm(key, iv, contextAad(call.context), sealed, keyRef);
      });
    },

    async dispose() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(all.map((s) => s.close()));
      lease?.release();
      lease = undefined;
      api = undefined;
    },
  };
}
