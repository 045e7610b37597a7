/**
 * `@sealkit/envelope/local` on runtimes without a file system: the master key comes from
 * `SEALKIT_LOCAL_KEY`. Importing this module registers the provider.
 */
import { localProvider } from "./_local-noble.js";
import { registerProvider } from "./provider.js";

export {
  LOCAL_PROVIDER_ID,
  MISSING_KEY_HINT,
  type LocalCrypto,
  type LocalKeySource,
  type LocalProviderOptions,
  envKeySource,
  generateLocalKey,
  parseLocalKey,
} from "./_local-core.js";
export { keyCheckValue, localKeyRef, localProvider } from "./_local-noble.js";

registerProvider(localProvider());
