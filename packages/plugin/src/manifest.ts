/**
 * The per-build manifest (`sealkit-manifest.json`, format in docs/architecture.md): for each
 * output file, the secrets it carries and the master keys and wrap context that open them.
 * The input of `sealkit policy`. Names only, never values.
 */
import { relative } from "node:path";
import { FORMAT_VERSION, type StoreFile } from "@sealkit/envelope";

export interface OutputSecrets {
  /** Absolute path of the output file. */
  file: string;
  secrets: ReadonlySet<string>;
}

export interface ManifestStore {
  storeId: string;
  generation: number;
  storeFile: string;
  keys: { provider: string; keyRef: string; context: Record<string, string> }[];
  secrets: string[];
}

export interface Manifest {
  sealkit: number;
  generatedAt: string;
  outputs: Record<string, { stores: ManifestStore[] }>;
}

export function manifestOf(outputs: readonly OutputSecrets[], store: StoreFile | undefined, dir: string, storePath: string | undefined): Manifest {
  const out: Manifest["outputs"] = {};
  for (const o of [...outputs].sort((a, b) => (a.file < b.file ? -1 : 1))) {
    const key = relative(dir, o.file).replace(/\\/g, "/");
    out[key] = {
      stores:
        store && o.secrets.size > 0
          ? [
              {
                storeId: store.storeId,
                generation: store.generation,
                storeFile: storePath ? relative(dir, storePath).replace(/\\/g, "/") : "",
                keys: store.keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef, context: { ...k.context } })),
                secrets: [...o.secrets].sort(),
              },
            ]
          : [],
    };
  }
  return { sealkit: FORMAT_VERSION, generatedAt: new Date().toISOString(), outputs: out };
}
