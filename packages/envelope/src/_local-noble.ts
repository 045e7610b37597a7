/** The local provider on @noble/ciphers: every runtime (the portable `./local` entry). */
import { ecb } from "@noble/ciphers/aes.js";
import { localCore } from "./_local-core.js";
import { nobleAead } from "./aead.js";

export const { keyCheckValue, localKeyRef, localProvider } = localCore({
  aead: nobleAead,
  encryptBlock: (key, block) => ecb(key, { disablePadding: true }).encrypt(block),
});
