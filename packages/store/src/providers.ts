import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { SealkitError, hasProvider, registerProvider } from "@sealkit/envelope";
import { defaultLocalKeyFile, localProvider } from "@sealkit/envelope/local";

/**
 * Loads the providers a store needs, by convention rather than by a list: provider `x`
 * lives in package `@sealkit/x` and registers itself when imported. The package is resolved
 * from each of `resolveFrom` in turn (the CLI's own location, a project's root), since a
 * provider is installed beside whatever uses it. The built-in `local` provider is
 * configured with the key file next to the store.
 */
export async function ensureProviders(
  ids: Iterable<string>,
  storePath: string,
  resolveFrom: readonly string[] = [],
): Promise<void> {
  for (const id of new Set(ids)) {
    if (id === "local") {
      registerProvider(localProvider({ keyFile: defaultLocalKeyFile(dirname(storePath)) }));
      continue;
    }
    if (hasProvider(id)) continue;
    await importProviderModule(id, resolveFrom);
    if (!hasProvider(id)) {
      throw new SealkitError("E_CONFIG", `@sealkit/${id} did not register a provider with id "${id}"`, { details: { provider: id } });
    }
  }
}

/**
 * Imports package `@sealkit/<id>` (which registers the provider and may export CLI hooks:
 * `initKeys`, `policy`, `currentKeyRef`), resolved from each of `resolveFrom` in turn.
 */
export async function importProviderModule(id: string, resolveFrom: readonly string[]): Promise<Record<string, unknown>> {
  const spec = `@sealkit/${id}`;
  for (const base of resolveFrom) {
    let file: string;
    try {
      file = createRequire(base).resolve(spec);
    } catch {
      continue; // try the next place
    }
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  }
  throw new SealkitError("E_CONFIG", `unknown key provider "${id}": install ${spec}`, { details: { provider: id } });
}
