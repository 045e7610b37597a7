/** @sealkit/runtime for every JavaScript runtime (no node: imports). */
export { type SecretName, type SecretNames, dispose, preload, register, secret, secretBytes } from "./core.js";
