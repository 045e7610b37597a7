/**
 * `@sealkit/gcp-kms`: the Google Cloud KMS key provider. Importing this module registers the
 * provider under the id `gcp-kms`; the SDK (`@google-cloud/kms`) loads on the first wrap or
 * unwrap, not here.
 */
import { type LazyProvider, registerProvider } from "@sealkit/envelope";
import { PROVIDER_ID } from "./_errors.js";
import type { GcpKmsProviderOptions } from "./types.js";

export { CREDENTIALS_HINT, PROVIDER_ID } from "./_errors.js";
export { initKeys, type InitKeysInput, type InitKeysResult } from "./init.js";
export { KEY_NAME_EXAMPLE, type KeyName, parseKeyName } from "./key-name.js";
export { type GcpPolicyOptions, type KeyBinding, OPERATOR_ROLE, RUNTIME_ROLE, policy } from "./policy.js";
export type { GcpKmsProviderOptions, KeyDescription, KmsClientLike } from "./types.js";

/**
 * A configured provider (an injected client, credentials, an endpoint), still lazy: pass
 * it to `registerProvider` to replace the default one.
 */
export function createGcpKmsProvider(options: GcpKmsProviderOptions = {}): LazyProvider {
  return { id: PROVIDER_ID, load: () => import("./provider.js").then((m) => m.createProvider(options)) };
}

registerProvider({ id: PROVIDER_ID, load: () => import("./provider.js").then((m) => m.create()) });
