import { type KeyProvider, guardProvider } from "@sealkit/envelope";
import { create } from "../src/provider.js";
import type { AwsKmsProviderOptions } from "../src/types.js";
import { type KmsServer, startKmsServer } from "../../../test/support/aws-kms-server.js";

export const FAKE_CREDENTIALS = { accessKeyId: "AKIAEXAMPLEFAKE00001", secretAccessKey: "fake/secret/for/tests/only/0000000000000" };

/** The real KMSClient, pointed at the local server with fake credentials. */
export function clientConfig(server: KmsServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { endpoint: server.url, credentials: FAKE_CREDENTIALS, ...extra };
}

export function awsProvider(server: KmsServer, options: AwsKmsProviderOptions = {}): KeyProvider {
  return create({ clientConfig: clientConfig(server), ...options });
}

export function guarded(server: KmsServer, options: AwsKmsProviderOptions = {}) {
  return guardProvider(awsProvider(server, options));
}

export async function kmsServer(opts: Parameters<typeof startKmsServer>[0] = {}): Promise<KmsServer> {
  return startKmsServer({ credentials: { [FAKE_CREDENTIALS.accessKeyId]: FAKE_CREDENTIALS.secretAccessKey }, ...opts });
}

export const ctx = (store = "AAAAAAAAAAAAAAAAAAAAAA", generation = 1) =>
  Object.freeze({ "sealkit:store": store, "sealkit:generation": String(generation) });

export function dataKey(fill?: number): Uint8Array {
  const k = new Uint8Array(32);
  if (fill === undefined) crypto.getRandomValues(k);
  else k.fill(fill);
  return k;
}
