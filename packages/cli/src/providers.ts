import { ensureProviders as ensureFrom } from "@sealkit/store";

/**
 * Loads the providers a store needs. Provider packages are resolved from the CLI's own
 * location (it depends on every first-party provider) and then from the working
 * directory (a third-party provider installed in the project).
 */
export function ensureProviders(ids: Iterable<string>, storePath: string): Promise<void> {
  return ensureFrom(ids, storePath, [import.meta.url, `${process.cwd()}/package.json`]);
}
