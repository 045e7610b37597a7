/**
 * `@sealkit/aws-kms/runtime`: what function bundles import (the plugin prefers a provider's
 * `./runtime` entry when it has one). It carries only the light Decrypt client (SigV4 over
 * `node:https`, see docs/providers/aws-kms.md), so a bundle holds none of
 * `@aws-sdk/client-kms`: measured, the SDK's code cost a cold start ~33 ms of parsing even
 * though the runtime path never ran it.
 *
 * When the light client does not apply (credentials not in the environment, a profile,
 * FIPS or dual-stack endpoints, `SEALKIT_AWS_KMS_CLIENT=sdk`) or for wrap and rewrap, the
 * full provider is imported from `node_modules` at run time, through an import bundlers
 * do not follow. On AWS Lambda the credentials are always in the environment, so a Lambda
 * bundle never needs it; elsewhere, deploy `@sealkit/aws-kms` (and so `@aws-sdk/client-kms`)
 * beside the bundle, or import `@sealkit/aws-kms` itself to bundle the SDK.
 */
import { type KeyProvider, SealkitError, registerProvider } from "@sealkit/envelope";
import { liteEligible } from "./eligible.js";

/** Kept in a variable so that bundlers leave this import to run time. */
const SDK_ENTRY = "@sealkit/aws-kms/sdk";

type Env = Record<string, string | undefined>;

function create(): KeyProvider {
  let full: Promise<KeyProvider> | undefined;
  const sdk = (): Promise<KeyProvider> => {
    const spec = SDK_ENTRY;
    full ??= import(/* webpackIgnore: true */ /* @vite-ignore */ spec).then(
      (m: { create(): KeyProvider }) => m.create(),
      (e) => {
        full = undefined;
        throw new SealkitError(
          "E_CONFIG",
          "aws-kms: this bundle carries only the light KMS client, which needs credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (as on AWS Lambda); for other credential sources deploy @sealkit/aws-kms beside the bundle, or import \"@sealkit/aws-kms\" in your code to bundle the SDK",
          { cause: e, details: { provider: "aws-kms" } },
        );
      },
    );
    return full;
  };
  return {
    id: "aws-kms",
    async wrap(dataKey, call) {
      return (await sdk()).wrap(dataKey, call);
    },
    async unwrap(wrapped, call) {
      const env = (globalThis as { process?: { env?: Env } }).process?.env;
      if (call.signal && env && liteEligible(call.keyRef, {}, env)) {
        const { liteDecrypt } = await import("./lite.js");
        return liteDecrypt(wrapped, call);
      }
      return (await sdk()).unwrap(wrapped, call);
    },
    async rewrap(wrapped, call) {
      const p = await sdk();
      return (p.rewrap as NonNullable<KeyProvider["rewrap"]>)(wrapped, call);
    },
    async dispose() {
      if (full) await (await full).dispose?.();
    },
  };
}

registerProvider({ id: "aws-kms", load: async () => create() });
