export { DEFAULT_STORE_FILE, readStoreFile, resolveStorePath, storeExists, withStoreLock, writeStoreFile } from "./file.js";
export { type FaultPoint, faultPoint } from "./faults.js";
export {
  type InitOptions,
  type MasterKey,
  type SecretInfo,
  type VerifyResult,
  getSecret,
  initStore,
  listSecrets,
  notFound,
  removeSecret,
  setSecret,
  setSecrets,
  unwrapStoreKey,
  verifyStore,
  verifyWrap,
  withDataKey,
  wrapUnderAll,
} from "./ops.js";
export { didYouMean, didYouMeanHint } from "./suggest.js";
