import { gcm } from "@noble/ciphers/aes.js";
import { openFailed } from "./errors.js";

/**
 * AES-256-GCM, behind a two-function interface so a runtime can plug in a faster
 * implementation (the Node entry of @sealkit/runtime uses node:crypto) while every other
 * runtime uses @noble/ciphers. Both must throw on a tag mismatch before releasing bytes.
 */
export interface Aead {
  /** Returns ciphertext || 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Checks the tag, then returns the plaintext. Throws `E_AUTH` on any failure. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
}

export const KEY_BYTES = 32;
/** NIST SP 800-38D §8.2.2: a 96-bit random nonce (IV), safe for < 2^32 messages per key. */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** The portable AES-256-GCM: @noble/ciphers, which checks the tag before decrypting. */
export const nobleAead: Aead = {
  seal(key, nonce, plaintext, aad) {
    return gcm(key, nonce, aad).encrypt(plaintext);
  },
  open(key, nonce, sealed, aad) {
    if (sealed.length < TAG_BYTES) throw openFailed();
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      throw openFailed();
    }
  },
};
