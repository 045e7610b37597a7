/**
 * @sealkit/runtime on Node (the `node` export condition): node:crypto AES-GCM, and a
 * development fallback that reads the store file when a name has no envelope in the bundle.
 */
import { setCipher, setFallback } from "./core.js";
import { nodeCipher } from "./node-cipher.js";
import { storeFallback } from "./node-fallback.js";

export * from "./index.js";

setCipher(nodeCipher);
setFallback(storeFallback);
