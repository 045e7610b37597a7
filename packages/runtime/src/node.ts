/**
 * @sealkit/runtime on Node (the `node` export condition): node:crypto AES-GCM, and a
 * development fallback that reads the store file when a name has no envelope in the bundle.
 * The fallback (and its node:fs, node:module imports) loads only when first needed, so a
 * bundled function does not pay for it at import.
 */
import { setCipher, setFallback } from "./core.js";
import { nodeCipher } from "./node-cipher.js";

export * from "./index.js";

setCipher(nodeCipher);
setFallback((name) => import("./node-fallback.js").then((m) => m.storeFallback(name)));
