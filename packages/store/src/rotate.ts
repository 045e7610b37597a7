import {
  SealkitError,
  type StoreFile,
  type StoredSecret,
  newDataKey,
  openValue,
  sealValue,
  storedEnvelope,
  storedSecret,
  unwrapFirst,
  wipe,
} from "@sealkit/envelope";
import { faultPoint } from "./faults.js";
import { readStoreFile, withStoreLock, writeStoreFile } from "./file.js";
import { wrapUnderAll } from "./ops.js";
import type { CurrentKeyRef } from "./rekey.js";

export interface RotateResult {
  file: string;
  storeId: string;
  dryRun: boolean;
  fromGeneration: number;
  generation: number;
  /** Names re-sealed under the new data key (values unchanged, `updatedAt` kept). */
  resealed: string[];
  keys: { provider: string; keyRef: string }[];
}

/**
 * `sealkit rotate`: a new data key, every value re-sealed under it, the generation
 * incremented (the value AAD and the wrap context both carry it), the new data key wrapped
 * under every master key (at its current version) and verified. All of it in memory under
 * the lock, then one atomic write: a crash leaves the old store or the new one. Plaintexts
 * live only in the loop below and are wiped. `updatedAt` of a value keeps meaning "when the
 * value last changed", so it is kept; `dataKeyCreatedAt` is set to now.
 */
export async function rotateStore(
  path: string,
  opts: { dryRun?: boolean; currentKeyRef?: CurrentKeyRef } = {},
): Promise<RotateResult> {
  if (opts.dryRun) {
    const s = await readStoreFile(path);
    return summary(path, s, s.generation + 1, true, s.keys);
  }
  return withStoreLock(path, async () => {
    const store = await readStoreFile(path);
    const generation = store.generation + 1;
    const oldKey = (await unwrapFirst(store.keys)).dataKey;
    const dataKey = newDataKey();
    try {
      const secrets: Record<string, StoredSecret> = {};
      for (const name of Object.keys(store.secrets).sort()) {
        const old = store.secrets[name] as StoredSecret;
        const value = openValue(oldKey, storedEnvelope(store, name));
        try {
          const env = sealValue(dataKey, { storeId: store.storeId, generation, name }, value);
          const back = openValue(dataKey, env);
          const same = back.length === value.length && back.every((b, i) => b === value[i]);
          wipe(back);
          if (!same) throw new SealkitError("E_AUTH", `re-sealed value of "${name}" did not verify; nothing was written`, { details: { name } });
          secrets[name] = storedSecret(env, old.updatedAt);
        } finally {
          wipe(value);
        }
      }
      faultPoint("rotate-resealed");
      const current = opts.currentKeyRef ?? ((k) => k.keyRef);
      const masterKeys = [];
      for (const k of store.keys) masterKeys.push({ provider: k.provider, keyRef: await current(k) });
      const keys = await wrapUnderAll(dataKey, masterKeys, store.storeId, generation);
      const next: StoreFile = {
        ...store,
        generation,
        dataKeyCreatedAt: new Date().toISOString(),
        keys: Object.freeze(keys),
        secrets: Object.freeze(secrets),
      };
      await writeStoreFile(path, next);
      return summary(path, next, generation, false, keys, store.generation);
    } finally {
      wipe(oldKey, dataKey);
    }
  });
}

function summary(
  file: string,
  s: StoreFile,
  generation: number,
  dryRun: boolean,
  keys: StoreFile["keys"],
  from = s.generation,
): RotateResult {
  return {
    file,
    storeId: s.storeId,
    dryRun,
    fromGeneration: dryRun ? s.generation : from,
    generation,
    resealed: Object.keys(s.secrets).sort(),
    keys: keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef })),
  };
}
