/** @sealkit/runtime for every JavaScript runtime: WebCrypto AES-GCM, no node: imports. */
export {
  type ErrorCode,
  type RegisterOptions,
  RUNTIME_DEFAULTS,
  type RuntimeOptions,
  type SealkitEvent,
  type SealkitEventType,
  SealkitError,
  type SecretName,
  type SecretNames,
  configure,
  dispose,
  isSealkitError,
  preload,
  register,
  secret,
  secretBytes,
} from "./core.js";
