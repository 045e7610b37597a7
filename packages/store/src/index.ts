export { DEFAULT_STORE_FILE, readStoreFile, readStoreFileSync, resolveStorePath, storeExists, withStoreLock, writeStoreFile } from "./file.js";
export { FAULT_POINTS, type FaultPoint, faultPoint } from "./faults.js";
export {
  type BundleRekeyResult,
  type BundleScan,
  type BundleStatus,
  type FoundRecord,
  MANIFEST_FILE,
  bundleStatus,
  findKeyRecords,
  rekeyBundle,
} from "./bundle.js";
export { type StoreDiff, diffStores, storeAtRevision } from "./diff.js";
export { secretEnvName, secretEnvNames } from "./env-names.js";
export {
  type CurrentKeyRef,
  type RekeyResult,
  type RekeyStep,
  type RekeyTarget,
  describeMethods,
  planRekey,
  rekeyRecords,
  rekeyStore,
} from "./rekey.js";
export { type RotateResult, rotateStore } from "./rotate.js";
export {
  DEFAULT_MIN_LEAK_LENGTH,
  type LeakEncoding,
  type LeakFinding,
  type ScanResult,
  assertNoLeaks,
  scanForLeaks,
  scanStoreForLeaks,
} from "./scan.js";
export {
  type StaleItem,
  type StatusOptions,
  type StoreStatus,
  assertFresh,
  formatAge,
  parseDuration,
  parseSince,
  storeStatus,
} from "./status.js";
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
export { ensureProviders, importProviderModule } from "./providers.js";
