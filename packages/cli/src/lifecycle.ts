import { SealkitError } from "@sealkit/envelope";
import type { CurrentKeyRef, MasterKey } from "@sealkit/store";
import { allValues } from "./args.js";
import { providerModule } from "./providers.js";

/**
 * What a provider package may export for `rekey` and `rotate`: the reference to wrap under
 * "now" for a recorded (possibly version-pinned) one. Optional; identity when absent.
 */
export interface ProviderCurrentKeyRef {
  currentKeyRef(key: MasterKey): string | Promise<string>;
}

/** Asks each provider package for its `currentKeyRef` hook, by convention (`@sealkit/<id>`). */
export const currentKeyRef: CurrentKeyRef = async (k) => {
  if (k.provider === "local") return k.keyRef;
  let mod: Partial<ProviderCurrentKeyRef>;
  try {
    mod = (await providerModule(k.provider)) as Partial<ProviderCurrentKeyRef>;
  } catch {
    return k.keyRef;
  }
  return typeof mod.currentKeyRef === "function" ? await mod.currentKeyRef({ provider: k.provider, keyRef: k.keyRef }) : k.keyRef;
};

/**
 * `--to-key` / `--add-key` values as master keys. A value may name its provider
 * (`aws-kms:arn:aws:kms:…` is read as provider `aws-kms` only with `--provider`, since key
 * references contain colons themselves), else `--provider`, else the store's first key's.
 */
export function targetKeys(rawArgs: readonly string[], flag: "to-key" | "add-key", provider: string | undefined, fallback: string): MasterKey[] {
  return allValues(rawArgs, flag).map((keyRef) => {
    if (!keyRef) throw new SealkitError("E_INPUT", `--${flag} needs a key reference`);
    return { provider: provider ?? fallback, keyRef };
  });
}
