/**
 * `@sealkit/aws-kms`: the AWS KMS key provider. Importing this module registers the provider
 * under the id `aws-kms`; the SDK loads on the first wrap or unwrap, not here.
 */
import { type LazyProvider, registerProvider } from "@sealkit/envelope";
import type { AwsKmsProviderOptions } from "./types.js";

export { ARN_HINT, type KmsArn, keyArn, parseKmsArn } from "./arn.js";
export { codeOf, credentialSources, toSealkitError } from "./errors.js";
export { policy, STORE_CONTEXT_CONDITION } from "./policy.js";
export type { AwsKmsProviderOptions, KmsClientLike } from "./types.js";
import { type InitKeysInput, type InitKeysResult, initKeys as initKeysWith } from "./init.js";
export type { InitKeysInput, InitKeysResult };

/**
 * A configured provider, e.g. with an injected client, for `registerProvider`:
 *   registerProvider(createAwsKmsProvider({ clientFor: (region) => new KMSClient({ region }) }))
 */
export function createAwsKmsProvider(options: AwsKmsProviderOptions = {}): LazyProvider {
  return { id: "aws-kms", load: () => import("./hybrid.js").then((m) => m.create(options)) };
}

/** The `sealkit init --provider aws-kms` hook. */
export function initKeys(input: InitKeysInput): Promise<InitKeysResult> {
  return initKeysWith(input);
}

registerProvider(createAwsKmsProvider());
