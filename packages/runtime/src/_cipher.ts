import { SealkitError, openFailed } from "@sealkit/envelope";
import type { Cipher } from "./_state.js";

/**
 * AES-256-GCM through WebCrypto, present on every runtime we target (Node, Deno, Bun,
 * Workers, browsers in secure contexts). Chosen over @noble/ciphers here to keep the portable
 * runtime within its size budget. WebCrypto checks the tag before it returns any bytes.
 * The data key is imported once per slot as a non-extractable CryptoKey; that object cannot be
 * zero-filled, so it is dropped with the slot (the raw bytes are wiped).
 */
export const webCipher: Cipher = {
  async open(slot, e) {
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) {
      throw new SealkitError(
        "E_CONFIG",
        "no WebCrypto (crypto.subtle) here; browsers offer it on https and localhost only",
      );
    }
    slot.handle ??= subtle.importKey("raw", slot.key as BufferSource, "AES-GCM", false, ["decrypt"]);
    try {
      const key = await (slot.handle as Promise<CryptoKey>);
      const params = { name: "AES-GCM", iv: e.nonce as BufferSource, additionalData: e.aad as BufferSource, tagLength: 128 };
      return new Uint8Array(await subtle.decrypt(params, key, e.sealed as BufferSource));
    } catch {
      throw openFailed();
    }
  },
};
