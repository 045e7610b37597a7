/**
 * `@sealkit/envelope/local` on runtimes without a file system: the master key comes from
 * `SEALKIT_LOCAL_KEY`. Importing this module registers the provider.
 */
import { localProvider } from "./_local-core.js";
import { registerProvider } from "./provider.js";

export {
  LOCAL_PROVIDER_ID,
  MISSING_KEY_HINT,
  type LocalKeySource,
  type LocalProviderOptions,
  envKeySource,
  generateLocalKey,
  keyCheckValue,
  localKeyRef,
  localProvider,
  parseLocalKey,
} from "./_local-core.js";

registerProvider(localProvider());
