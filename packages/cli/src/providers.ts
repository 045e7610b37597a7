import { dirname } from "node:path";
import { SealkitError, hasProvider, registerProvider } from "@sealkit/envelope";
import { localProvider } from "@sealkit/envelope/local";
import type { MasterKey } from "@sealkit/store";

/**
 * The CLI finds providers by convention, not by a list: provider `x` lives in package
 * `@sealkit/x` and registers itself when imported. The built-in `local` provider is
 * configured with the key file next to the store.
 */
export async function ensureProviders(ids: Iterable<string>, storePath: string): Promise<void> {
  for (const id of new Set(ids)) {
    if (id === "local") {
      const { defaultLocalKeyFile } = await import("@sealkit/envelope/local");
      registerProvider(localProvider({ keyFile: defaultLocalKeyFile(dirname(storePath)) }));
      continue;
    }
    if (hasProvider(id)) continue;
    try {
      await import(`@sealkit/${id}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(`@sealkit/${id}`)) {
        throw new SealkitError("E_CONFIG", `unknown key provider "${id}": install @sealkit/${id}`, { details: { provider: id } });
      }
      throw e;
    }
    if (!hasProvider(id)) {
      throw new SealkitError("E_CONFIG", `@sealkit/${id} did not register a provider with id "${id}"`, { details: { provider: id } });
    }
  }
}

/** Master keys of a store, for loading their providers. */
export function providerIds(keys: readonly MasterKey[]): string[] {
  return keys.map((k) => k.provider);
}
