/**
 * `@sealkit/azure-key-vault`: importing this module registers the provider. It imports no
 * Azure SDK: `./provider.js` (with @azure/keyvault-keys and @azure/identity) loads on the
 * first wrap or unwrap.
 */
import { type KeyProvider, registerProvider } from "@sealkit/envelope";
import { parseKeyRef } from "./_key-ref.js";
import type { AzureKeyVaultProviderOptions } from "./provider.js";

export { type KeyRef, parseKeyRef } from "./_key-ref.js";
export { CREDENTIAL_HINT } from "./_errors.js";
export { policy } from "./policy.js";
export type { AzureKeyVaultProviderOptions, KeyDescription, TokenCredential } from "./provider.js";

export const AZURE_KEY_VAULT = "azure-key-vault";

type Impl = Awaited<ReturnType<typeof import("./provider.js").create>>;

/**
 * A provider with an injected credential or client options (tests, custom clouds). The SDK
 * still loads on first use. Register it with `registerProvider(createAzureKeyVaultProvider(...))`.
 */
export function createAzureKeyVaultProvider(options: AzureKeyVaultProviderOptions = {}): KeyProvider & {
  describeKey(keyRef: string, signal?: AbortSignal): Promise<import("./provider.js").KeyDescription>;
} {
  let impl: Promise<Impl> | undefined;
  const load = () => (impl ??= import("./provider.js").then((m) => m.create(options)));
  return {
    id: AZURE_KEY_VAULT,
    wrap: async (dataKey, call) => (await load()).wrap(dataKey, call),
    unwrap: async (wrapped, call) => (await load()).unwrap(wrapped, call),
    describeKey: async (keyRef, signal) => (await load()).describeKey(keyRef, signal),
  };
}

/**
 * For `sealkit rekey`: the key to wrap under now is the key itself, not the version a record
 * pins (wrap always uses the key's current version and records it).
 */
export function currentKeyRef(key: { provider: string; keyRef: string }): string {
  const ref = parseKeyRef(key.keyRef);
  return `${ref.vaultUrl}/keys/${ref.name}`;
}

/** Part of `sealkit init --provider azure-key-vault --key <key-id-url>`. */
export async function initKeys({ keys }: { keys: string[]; rawArgs: string[] }): Promise<{
  masterKeys: { provider: string; keyRef: string }[];
  notes: string[];
}> {
  if (keys.length === 0) {
    const { SealkitError } = await import("@sealkit/envelope");
    throw new SealkitError("E_INPUT", "--provider azure-key-vault needs --key https://<vault>.vault.azure.net/keys/<key-name>");
  }
  for (const k of keys) parseKeyRef(k);
  const p = createAzureKeyVaultProvider();
  const notes: string[] = [];
  for (const k of keys) {
    const d = await p.describeKey(k);
    notes.push(
      d.localWrap
        ? `${d.keyRef}: ${d.kty} key, data key wrapped locally with its public key (RSA-OAEP-256): wrapping needs keys get, no wrapKey; opening the store (set, get, verify, this init's check) needs unwrapKey`
        : `${d.keyRef}: ${d.kty} key, data key wrapped in the HSM (A256KW): needs keys get, wrapKey and unwrapKey`,
    );
  }
  notes.push("the store pins each key version; `sealkit rekey` moves to the key's current version after it rotates");
  notes.push("runtime least privilege: `sealkit policy` (a role with only keys/unwrap/action on this key)");
  return { masterKeys: keys.map((keyRef) => ({ provider: AZURE_KEY_VAULT, keyRef })), notes };
}

registerProvider({ id: AZURE_KEY_VAULT, load: async () => (await import("./provider.js")).create() });
