/**
 * The provider `@sealkit/aws-kms` registers: wrap and rewrap (the CLI, store operations) go
 * through `@aws-sdk/client-kms`; unwrap on the runtime path (a caller with an AbortSignal,
 * which retries itself) takes the light client when it behaves exactly as the SDK would,
 * and the SDK otherwise. Neither loads before the first call.
 */
import type { KeyProvider } from "@sealkit/envelope";
import type { AwsKmsProviderOptions } from "./types.js";

type Env = Record<string, string | undefined>;

export { liteEligible } from "./eligible.js";
import { liteEligible } from "./eligible.js";

export function create(options: AwsKmsProviderOptions = {}): KeyProvider {
  let sdk: Promise<KeyProvider> | undefined;
  const full = () => {
    sdk ??= import("./provider.js").then((m) => m.create(options));
    return sdk;
  };
  return {
    id: "aws-kms",
    async wrap(dataKey, call) {
      return (await full()).wrap(dataKey, call);
    },
    async unwrap(wrapped, call) {
      const env = (globalThis as { process?: { env?: Env } }).process?.env;
      if (call.signal && env && liteEligible(call.keyRef, options, env)) {
        const { liteDecrypt } = await import("./lite.js");
        return liteDecrypt(wrapped, call);
      }
      return (await full()).unwrap(wrapped, call);
    },
    async rewrap(wrapped, call) {
      const p = await full();
      return (p.rewrap as NonNullable<KeyProvider["rewrap"]>)(wrapped, call);
    },
    async dispose() {
      if (sdk) await (await sdk).dispose?.();
    },
  };
}
