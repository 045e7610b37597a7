import { parseKmsArn } from "./arn.js";
import type { AwsKmsProviderOptions } from "./types.js";

type Env = Record<string, string | undefined>;

/**
 * When the light client is the same as the SDK: `SEALKIT_AWS_KMS_CLIENT` is `lite` or unset
 * (`sdk` turns it off); static credentials in the environment without AWS_PROFILE (the
 * SDK's default chain takes these first; with AWS_PROFILE set it skips them); no FIPS or
 * dual-stack endpoint; a partition whose endpoint is kms.<region>.amazonaws.com(.cn); no
 * client or client config injected.
 */
export function liteEligible(keyRef: string, options: AwsKmsProviderOptions, env: Env): boolean {
  const mode = env.SEALKIT_AWS_KMS_CLIENT ?? "auto";
  if (mode === "sdk") return false;
  if (options.client || options.clientFor || options.clientConfig || (options.maxAttempts ?? 1) > 1) return false;
  if (typeof process === "undefined" || !process.versions?.node) return false;
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY || env.AWS_PROFILE) return false;
  if (env.AWS_USE_FIPS_ENDPOINT === "true" || env.AWS_USE_DUALSTACK_ENDPOINT === "true") return false;
  let partition: string;
  try {
    partition = parseKmsArn(keyRef).partition;
  } catch {
    return false; // the SDK path reports the malformed reference
  }
  return partition === "aws" || partition === "aws-cn" || partition === "aws-us-gov";
}
