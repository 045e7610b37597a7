import { SealkitError } from "@sealkit/envelope";
import { type KmsArn, parseKmsArn } from "./arn.js";
import type { AwsKmsProviderOptions } from "./types.js";

export interface InitKeysInput {
  keys: string[];
  rawArgs: string[];
}

export interface InitKeysResult {
  masterKeys: { provider: string; keyRef: string }[];
  notes: string[];
}

function flag(rawArgs: readonly string[], name: string): string | undefined {
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i] as string;
    if (a === `--${name}`) return rawArgs[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/**
 * `sealkit init --provider aws-kms --key <key ARN | alias ARN | alias/name> [--key ...]
 * [--region r]`: checks each reference, resolves aliases to key ARNs with DescribeKey (the
 * store pins key ARNs, so retargeting an alias never silently changes what opens a store),
 * and refuses disabled keys, keys that cannot encrypt, and regions that do not match.
 */
export async function initKeys(input: InitKeysInput, options: AwsKmsProviderOptions = {}): Promise<InitKeysResult> {
  const { describeKey, PROVIDER_ID } = await import("./provider.js");
  const refs = input.keys;
  if (refs.length === 0) {
    throw new SealkitError(
      "E_INPUT",
      "--provider aws-kms needs --key <key ARN or alias ARN> (repeat --key for a second region, e.g. a multi-Region key replica)",
    );
  }
  const regionFlag = flag(input.rawArgs, "region");
  const defaultRegion = regionFlag || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  const notes: string[] = [];
  const masterKeys: InitKeysResult["masterKeys"] = [];
  for (const ref of refs) {
    let region: string;
    let parsed: KmsArn | undefined;
    if (ref.startsWith("arn:")) {
      parsed = parseKmsArn(ref);
      region = parsed.region;
      if (regionFlag && regionFlag !== region) {
        throw new SealkitError("E_CONFIG", `region mismatch: --region ${regionFlag}, but ${ref} is in ${region}`, {
          details: { provider: PROVIDER_ID, keyRef: ref },
        });
      }
    } else {
      try {
        parseKmsArn(ref);
      } catch (e) {
        if (!/^(alias\/[A-Za-z0-9/_-]+|[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/.test(ref)) throw e;
      }
      if (!defaultRegion) {
        throw new SealkitError("E_CONFIG", `${ref} names no region: give its ARN, or --region (or AWS_REGION)`, {
          details: { provider: PROVIDER_ID, keyRef: ref },
        });
      }
      region = defaultRegion;
    }
    let md: Awaited<ReturnType<typeof describeKey>>;
    try {
      md = await describeKey(ref, region, options);
    } catch (e) {
      if ((e as SealkitError).code === "E_NOT_FOUND") {
        throw new SealkitError(
          "E_NOT_FOUND",
          `no KMS ${parsed?.kind === "alias" || ref.startsWith("alias/") ? "alias" : "key"} ${ref} in ${region} for these credentials: check the name, the account and the region`,
          { cause: e, details: { provider: PROVIDER_ID, keyRef: ref, region } },
        );
      }
      throw e;
    }
    const answered = md.arn ? parseKmsArn(md.arn) : undefined;
    if (!answered || answered.region !== region) {
      throw new SealkitError(
        "E_CONFIG",
        `region mismatch: asked ${region} for ${ref}, but the KMS endpoint answered with ${md.arn || "no ARN"}: check AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL`,
        { details: { provider: PROVIDER_ID, keyRef: ref, region } },
      );
    }
    if (!md.enabled) {
      throw new SealkitError("E_KEY_DISABLED", `KMS key ${md.arn} is ${md.state || "not enabled"}: enable it or pick another key`, {
        details: { provider: PROVIDER_ID, keyRef: md.arn },
      });
    }
    if (md.usage !== "ENCRYPT_DECRYPT" || md.spec !== "SYMMETRIC_DEFAULT") {
      throw new SealkitError("E_CONFIG", `KMS key ${md.arn} is ${md.spec} for ${md.usage}: Sealkit needs a symmetric ENCRYPT_DECRYPT key`, {
        details: { provider: PROVIDER_ID, keyRef: md.arn },
      });
    }
    if (masterKeys.some((k) => k.keyRef === md.arn)) {
      throw new SealkitError("E_INPUT", `--key ${ref} names ${md.arn} twice`, { details: { provider: PROVIDER_ID, keyRef: md.arn } });
    }
    if (md.arn !== ref) notes.push(`${ref} resolved to ${md.arn}; the store pins the key ARN`);
    masterKeys.push({ provider: PROVIDER_ID, keyRef: md.arn });
  }
  const regions = new Set(masterKeys.map((k) => parseKmsArn(k.keyRef).region));
  if (masterKeys.length > 1) notes.push(`the runtime tries the keys in order (${[...regions].join(", ")}) and fails over`);
  notes.push("run `sealkit policy` after a build for the least-privilege IAM statements");
  return { masterKeys, notes };
}
