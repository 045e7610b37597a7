/**
 * The AWS KMS key provider on `@aws-sdk/client-kms`. The SDK is imported dynamically on the
 * first call, not statically: a bundler hoists a static import of an external package to
 * the top of the bundle, which would load the SDK at every cold start even where the light
 * client (lite.ts) serves the one Decrypt.
 */
import { SealkitError, type KeyProvider } from "@sealkit/envelope";
import { type KmsArn, parseKmsArn } from "./arn.js";
import { toSealkitError } from "./errors.js";
import type { AwsKmsProviderOptions, KmsClientLike } from "./types.js";

export const PROVIDER_ID = "aws-kms";

/** SDK attempts when the caller has its own retry loop (the runtime passes a signal). */
const RUNTIME_ATTEMPTS = 1;
/** SDK attempts for callers without one (the CLI and store operations): standard mode. */
const CLI_ATTEMPTS = 3;

type Sdk = typeof import("@aws-sdk/client-kms");
let sdkModule: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => {
  sdkModule ??= import("@aws-sdk/client-kms");
  return sdkModule;
};

/** A KMS client per region and retry policy, created on first use. */
function clientPool(options: AwsKmsProviderOptions) {
  const pool = new Map<string, KmsClientLike>();
  return {
    get(sdk: Sdk, region: string, attempts: number): KmsClientLike {
      if (options.client) return options.client;
      const id = `${region}/${attempts}`;
      let c = pool.get(id);
      if (!c) {
        c = options.clientFor
          ? options.clientFor(region)
          : new sdk.KMSClient({
              region,
              maxAttempts: attempts,
              // Endpoint and credentials: the SDK's own chain (AWS_ENDPOINT_URL_KMS,
              // AWS_ENDPOINT_URL, profiles, env, container, IMDS).
              ...(options.clientConfig ?? {}),
            });
        pool.set(id, c);
      }
      return c;
    },
    dispose() {
      if (options.client || options.clientFor) return;
      for (const c of pool.values()) (c as { destroy?: () => void }).destroy?.();
      pool.clear();
    },
  };
}

const toBytes = (v: unknown, what: string): Uint8Array => {
  if (v instanceof Uint8Array && v.length > 0) return v;
  throw new SealkitError("E_PROVIDER", `aws-kms returned no ${what}`, { details: { provider: PROVIDER_ID } });
};

/** Creates the provider. Every SDK error leaves as a `SealkitError` with a mapped code. */
export function create(options: AwsKmsProviderOptions = {}): KeyProvider {
  const clients = clientPool(options);
  const attemptsFor = (signal?: AbortSignal) => options.maxAttempts ?? (signal ? RUNTIME_ATTEMPTS : CLI_ATTEMPTS);
  const call = async <T>(op: string, arn: KmsArn, signal: AbortSignal | undefined, command: (sdk: Sdk) => unknown): Promise<T> => {
    const sdk = await loadSdk();
    const client = clients.get(sdk, arn.region, attemptsFor(signal));
    try {
      return (await client.send(command(sdk), signal ? { abortSignal: signal } : undefined)) as T;
    } catch (e) {
      throw toSealkitError(e, op, arn.arn);
    }
  };
  return {
    id: PROVIDER_ID,
    async wrap(dataKey, { keyRef, context, signal }) {
      const arn = parseKmsArn(keyRef);
      // Encrypt, not GenerateDataKey: the store makes one data key and wraps it under every
      // master key (several regions), and rotation re-wraps an existing one.
      const out = await call<{ CiphertextBlob?: Uint8Array; KeyId?: string }>(
        "Encrypt",
        arn,
        signal,
        (sdk) => new sdk.EncryptCommand({ KeyId: arn.arn, Plaintext: dataKey, EncryptionContext: { ...context } }),
      );
      // KMS answers with the key ARN even when asked through an alias: record (pin) that.
      return { wrapped: toBytes(out.CiphertextBlob, "ciphertext"), ...(out.KeyId ? { keyRef: out.KeyId } : {}) };
    },
    async unwrap(wrapped, { keyRef, context, signal }) {
      const arn = parseKmsArn(keyRef);
      const out = await call<{ Plaintext?: Uint8Array }>(
        "Decrypt",
        arn,
        signal,
        // KeyId pinned: KMS refuses (IncorrectKeyException) a blob made under another key.
        (sdk) => new sdk.DecryptCommand({ CiphertextBlob: wrapped, KeyId: arn.arn, EncryptionContext: { ...context } }),
      );
      return toBytes(out.Plaintext, "plaintext");
    },
    async rewrap(wrapped, { keyRef, toKeyRef, context, signal }) {
      const from = parseKmsArn(keyRef);
      const to = parseKmsArn(toKeyRef);
      if (from.region !== to.region || from.partition !== to.partition) {
        throw new SealkitError(
          "E_CONFIG",
          `aws-kms ReEncrypt cannot move a data key from ${from.region} to ${to.region}: add the new key with \`sealkit rekey\` (unwrap and wrap) instead`,
          { details: { provider: PROVIDER_ID, keyRef, toKeyRef } },
        );
      }
      // ReEncrypt: the data key is decrypted and re-encrypted inside KMS, never sent to us.
      const out = await call<{ CiphertextBlob?: Uint8Array; KeyId?: string }>(
        "ReEncrypt",
        to,
        signal,
        (sdk) =>
          new sdk.ReEncryptCommand({
            CiphertextBlob: wrapped,
            SourceKeyId: from.arn,
            SourceEncryptionContext: { ...context },
            DestinationKeyId: to.arn,
            DestinationEncryptionContext: { ...context },
          }),
      );
      return { wrapped: toBytes(out.CiphertextBlob, "ciphertext"), ...(out.KeyId ? { keyRef: out.KeyId } : {}) };
    },
    dispose() {
      clients.dispose();
    },
  };
}

/** DescribeKey, for `sealkit init`: the key ARN, its state and whether it can encrypt. */
export async function describeKey(
  ref: string,
  region: string,
  options: AwsKmsProviderOptions = {},
): Promise<{ arn: string; enabled: boolean; state: string; usage: string; spec: string; multiRegion: boolean }> {
  const clients = clientPool(options);
  const sdk = await loadSdk();
  try {
    const out = await clients
      .get(sdk, region, options.maxAttempts ?? CLI_ATTEMPTS)
      .send(new sdk.DescribeKeyCommand({ KeyId: ref }))
      .catch((e: unknown) => {
        throw toSealkitError(e, "DescribeKey", ref);
      });
    const md = (out as { KeyMetadata?: Record<string, unknown> }).KeyMetadata ?? {};
    return {
      arn: String(md.Arn ?? ""),
      enabled: md.Enabled === true,
      state: String(md.KeyState ?? ""),
      usage: String(md.KeyUsage ?? ""),
      spec: String(md.KeySpec ?? md.CustomerMasterKeySpec ?? ""),
      multiRegion: md.MultiRegion === true,
    };
  } finally {
    clients.dispose();
  }
}
