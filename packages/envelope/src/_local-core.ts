/*
 * The local provider without a cipher: `localCore(crypto)` binds it to AES. The portable
 * entry (`local.ts`) passes @noble/ciphers; the Node entry (`local-node.ts`) passes
 * node:crypto, so Node bundles that register the local provider carry no AES code of their
 * own (the noble code is ~36 KB unminified, more than the rest of the runtime).
 */
import { concatBytes, fromBase64, randomBytes, toHex, wipe } from "./_bytes.js";
import { type Aead, KEY_BYTES, NONCE_BYTES } from "./aead.js";
import { SealkitError } from "./errors.js";
import { contextAad } from "./format.js";
import type { KeyProvider } from "./provider.js";

export const LOCAL_PROVIDER_ID = "local";

/** Where the master key of the local provider comes from. Returns undefined when absent. */
export type LocalKeySource = () => Promise<Uint8Array | undefined>;

export interface LocalProviderOptions {
  /** The master key itself (32 bytes, or their base64). Tests use this. */
  key?: Uint8Array | string;
  /** A loader tried when `key` is not given (the Node entry reads env, then the key file). */
  source?: LocalKeySource;
  /** How the error should tell the user to supply a key. */
  missingKeyHint?: string;
}

export const MISSING_KEY_HINT =
  "set SEALKIT_LOCAL_KEY to the base64 of 32 random bytes, or run `sealkit init --provider local` to create .sealkit/local.key";

/** Parses a local master key given as base64 text (as in SEALKIT_LOCAL_KEY or the key file). */
export function parseLocalKey(text: string, where: string): Uint8Array {
  const key = fromBase64(text.trim());
  if (!key || key.length !== KEY_BYTES) {
    throw new SealkitError("E_CONFIG", `${where} is not the base64 of 32 bytes; generate one with \`sealkit init --provider local\``, {
      details: { source: where },
    });
  }
  return key;
}

export function generateLocalKey(): Uint8Array {
  return randomBytes(KEY_BYTES);
}

/** The env-var source, usable on every runtime that has `process.env` (or none). */
export const envKeySource: LocalKeySource = async () => {
  const text = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SEALKIT_LOCAL_KEY;
  return text ? parseLocalKey(text, "SEALKIT_LOCAL_KEY") : undefined;
};

/** The AES the local provider runs on: GCM, and one raw block for the key check value. */
export interface LocalCrypto {
  readonly aead: Aead;
  /** AES-256 of one 16-byte block (ECB, no padding). */
  encryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array;
}

/** The local provider's functions, bound to one AES implementation. */
export function localCore(crypto: LocalCrypto) {
  /**
   * The key check value (KCV) of a master key: the first 4 bytes of AES-256-ECB(key, 0^128),
   * as HSMs print it. It names the key in `keyRef` (`local:<kcv>`) without revealing it, so a
   * wrong key is reported as such instead of as a tampered envelope.
   */
  function keyCheckValue(key: Uint8Array): string {
    const block = crypto.encryptBlock(key, new Uint8Array(16));
    const kcv = toHex(block.subarray(0, 4));
    wipe(block);
    return kcv;
  }

  function localKeyRef(key: Uint8Array): string {
    return `${LOCAL_PROVIDER_ID}:${keyCheckValue(key)}`;
  }

  /**
   * The built-in `local` provider, for development, tests and the demo. It wraps the data key
   * with AES-256-GCM under a 32-byte master key, with the canonical wrap context as AAD
   * (chosen over AES key wrap, RFC 3394, because KW cannot authenticate a context).
   * Wrapped form: nonce (12) || ciphertext (32) || tag (16).
   */
  function localProvider(options: LocalProviderOptions = {}): KeyProvider {
    const fixed =
      options.key === undefined
        ? undefined
        : typeof options.key === "string"
          ? parseLocalKey(options.key, "local provider key")
          : options.key;
    if (fixed && fixed.length !== KEY_BYTES) throw new RangeError(`key: expected ${KEY_BYTES} bytes`);
    const source = options.source ?? envKeySource;
    const loadKey = async (): Promise<Uint8Array> => {
      if (fixed) return fixed.slice();
      const k = await source();
      if (!k) {
        throw new SealkitError("E_CONFIG", `no local master key: ${options.missingKeyHint ?? MISSING_KEY_HINT}`, {
          details: { provider: LOCAL_PROVIDER_ID },
        });
      }
      return k;
    };
    // On wrap, the bare "local" means "the key in use"; on unwrap the record must name it exactly.
    const checkRef = (key: Uint8Array, keyRef: string) => {
      const mine = localKeyRef(key);
      if (keyRef !== mine) {
        throw new SealkitError(
          "E_KEY_PINNING",
          `the local master key in use is ${mine}, but this data key was wrapped under ${keyRef}: supply the matching SEALKIT_LOCAL_KEY or key file`,
          { details: { provider: LOCAL_PROVIDER_ID, keyRef } },
        );
      }
    };
    return {
      id: LOCAL_PROVIDER_ID,
      async wrap(dataKey, call) {
        const key = await loadKey();
        try {
          if (call.keyRef !== LOCAL_PROVIDER_ID) checkRef(key, call.keyRef);
          const nonce = randomBytes(NONCE_BYTES);
          const sealed = crypto.aead.seal(key, nonce, dataKey, contextAad(call.context));
          return { wrapped: concatBytes(nonce, sealed), keyRef: localKeyRef(key) };
        } finally {
          wipe(key);
        }
      },
      async unwrap(wrapped, call) {
        const key = await loadKey();
        try {
          checkRef(key, call.keyRef);
          return crypto.aead.open(key, wrapped.subarray(0, NONCE_BYTES), wrapped.subarray(NONCE_BYTES), contextAad(call.context));
        } finally {
          wipe(key);
        }
      },
    };
  }

  return { keyCheckValue, localKeyRef, localProvider };
}
