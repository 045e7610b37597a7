import { ensureProviders as ensureFrom, importProviderModule } from "@sealkit/store";

/**
 * Provider packages are resolved from the CLI's own location (it depends on every
 * first-party provider), then from the working directory (a third-party provider
 * installed in the project).
 */
const bases = () => [import.meta.url, `${process.cwd()}/package.json`];

/** Loads the providers a store needs. */
export function ensureProviders(ids: Iterable<string>, storePath: string): Promise<void> {
  return ensureFrom(ids, storePath, bases());
}

/** The module of provider `id`, for its CLI hooks (`initKeys`, `policy`, `currentKeyRef`). */
export function providerModule(id: string): Promise<Record<string, unknown>> {
  return importProviderModule(id, bases());
}
