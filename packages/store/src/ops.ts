import {
  FORMAT_VERSION,
  SealkitError,
  type StoreFile,
  type StoredKey,
  type WrappedKey,
  assertSecretName,
  getProvider,
  newDataKey,
  newStoreId,
  openValue,
  sealValue,
  storedEnvelope,
  storedSecret,
  unwrapFirst,
  wipe,
  wrapContext,
} from "@sealkit/envelope";
import { faultPoint } from "./faults.js";
import { readStoreFile, withStoreLock, writeStoreFile } from "./file.js";
import { didYouMeanHint } from "./suggest.js";

/** A master key to wrap a store's data key under. */
export interface MasterKey {
  readonly provider: string;
  readonly keyRef: string;
}

const now = () => new Date().toISOString();

/**
 * Wraps a data key under each master key and checks, before anything is written, that each
 * new wrap unwraps to the same data key. A write therefore never replaces a store with one
 * that cannot be opened.
 */
export async function wrapUnderAll(
  dataKey: Uint8Array,
  masterKeys: readonly MasterKey[],
  storeId: string,
  generation: number,
): Promise<StoredKey[]> {
  if (masterKeys.length === 0) throw new SealkitError("E_INPUT", "at least one master key is needed");
  const context = wrapContext(storeId, generation);
  const out: StoredKey[] = [];
  for (const mk of masterKeys) {
    const p = await getProvider(mk.provider);
    const rec = await p.wrapKey(dataKey, { keyRef: mk.keyRef, context });
    await verifyWrap(rec, dataKey);
    out.push(Object.freeze({ ...rec, createdAt: now() }));
  }
  faultPoint("wrap-verified");
  return out;
}

/** Unwraps one record and checks it yields `dataKey`; throws E_PROVIDER otherwise. */
export async function verifyWrap(rec: WrappedKey, dataKey: Uint8Array): Promise<void> {
  const p = await getProvider(rec.provider);
  const back = await p.unwrapKey(rec);
  const same = back.length === dataKey.length && back.every((b, i) => b === dataKey[i]);
  wipe(back);
  if (!same) {
    throw new SealkitError("E_PROVIDER", `the new wrap under ${rec.keyRef} did not open to the same data key; nothing was written`, {
      details: { provider: rec.provider, keyRef: rec.keyRef },
    });
  }
}

export interface InitOptions {
  path: string;
  masterKeys: readonly MasterKey[];
}

/** Creates a new store: a random id, generation 1, a fresh data key wrapped under each key. */
export async function initStore(opts: InitOptions): Promise<StoreFile> {
  const storeId = newStoreId();
  const dataKey = newDataKey();
  try {
    const keys = await wrapUnderAll(dataKey, opts.masterKeys, storeId, 1);
    const t = now();
    const store: StoreFile = Object.freeze({
      version: FORMAT_VERSION,
      storeId,
      generation: 1,
      createdAt: t,
      dataKeyCreatedAt: t,
      keys: Object.freeze(keys),
      secrets: Object.freeze({}),
    });
    await withStoreLock(opts.path, () => writeStoreFile(opts.path, store, { exclusive: true }));
    return store;
  } finally {
    wipe(dataKey);
  }
}

/** Unwraps the store's data key (trying each master key in order). The caller wipes it. */
export async function unwrapStoreKey(store: StoreFile, signal?: AbortSignal): Promise<Uint8Array> {
  return (await unwrapFirst(store.keys, signal)).dataKey;
}

/** Runs `fn` with the store's data key, wiping it afterwards. */
export async function withDataKey<T>(store: StoreFile, fn: (dataKey: Uint8Array) => Promise<T> | T): Promise<T> {
  const dataKey = await unwrapStoreKey(store);
  try {
    return await fn(dataKey);
  } finally {
    wipe(dataKey);
  }
}

export function notFound(store: StoreFile, name: string, file: string): SealkitError {
  return new SealkitError(
    "E_NOT_FOUND",
    `no secret named "${name}" in ${file}${didYouMeanHint(name, Object.keys(store.secrets))}`,
    { details: { name, file } },
  );
}

/**
 * Seals values into the store under its lock: read, unwrap, seal, verify, write. Values
 * are given as bytes; the caller wipes them.
 */
export async function setSecrets(
  path: string,
  values: ReadonlyMap<string, Uint8Array>,
): Promise<{ created: string[]; updated: string[] }> {
  for (const name of values.keys()) assertSecretName(name);
  return withStoreLock(path, async () => {
    const store = await readStoreFile(path);
    const created: string[] = [];
    const updated: string[] = [];
    const secrets = { ...store.secrets };
    await withDataKey(store, (dataKey) => {
      const t = now();
      for (const [name, value] of values) {
        const addr = { storeId: store.storeId, generation: store.generation, name };
        const env = sealValue(dataKey, addr, value);
        // Verify before writing: the new envelope opens to the same bytes.
        const back = openValue(dataKey, env);
        const same = back.length === value.length && back.every((b, i) => b === value[i]);
        wipe(back);
        if (!same) throw new SealkitError("E_AUTH", "sealed value did not verify; nothing was written");
        (name in secrets ? updated : created).push(name);
        secrets[name] = storedSecret(env, t);
      }
    });
    await writeStoreFile(path, { ...store, secrets });
    return { created, updated };
  });
}

export async function setSecret(path: string, name: string, value: Uint8Array): Promise<{ created: boolean }> {
  const r = await setSecrets(path, new Map([[name, value]]));
  return { created: r.created.length === 1 };
}

/** Opens one value from the store file. The caller wipes the returned bytes. */
export async function getSecret(path: string, name: string): Promise<Uint8Array> {
  assertSecretName(name);
  const store = await readStoreFile(path);
  if (!store.secrets[name]) throw notFound(store, name, path);
  return withDataKey(store, (dataKey) => openValue(dataKey, storedEnvelope(store, name)));
}

export async function removeSecret(path: string, name: string): Promise<void> {
  assertSecretName(name);
  await withStoreLock(path, async () => {
    const store = await readStoreFile(path);
    if (!store.secrets[name]) throw notFound(store, name, path);
    const secrets = { ...store.secrets };
    delete secrets[name];
    await writeStoreFile(path, { ...store, secrets });
  });
}

export interface SecretInfo {
  name: string;
  updatedAt: string;
}

export async function listSecrets(path: string): Promise<{ store: StoreFile; secrets: SecretInfo[] }> {
  const store = await readStoreFile(path);
  const secrets = Object.keys(store.secrets)
    .sort()
    .map((name) => ({ name, updatedAt: (store.secrets[name] as { updatedAt: string }).updatedAt }));
  return { store, secrets };
}

export interface VerifyResult {
  ok: string[];
  failed: { name: string; code: string }[];
  /** Per master key: whether it unwraps the data key. */
  keys: { provider: string; keyRef: string; ok: boolean; code?: string; message?: string }[];
}

/** Checks that every master key unwraps the data key and every value opens. */
export async function verifyStore(path: string): Promise<VerifyResult> {
  const store = await readStoreFile(path);
  const keys: VerifyResult["keys"] = [];
  let dataKey: Uint8Array | undefined;
  for (const rec of store.keys) {
    try {
      const p = await getProvider(rec.provider);
      const k = await p.unwrapKey(rec);
      if (dataKey) wipe(k);
      else dataKey = k;
      keys.push({ provider: rec.provider, keyRef: rec.keyRef, ok: true });
    } catch (e) {
      // Messages of SealkitErrors never carry key bytes or values, so they can be shown.
      const err = e as SealkitError;
      keys.push({ provider: rec.provider, keyRef: rec.keyRef, ok: false, code: err.code ?? "E_PROVIDER", message: String(err.message) });
    }
  }
  const ok: string[] = [];
  const failed: VerifyResult["failed"] = [];
  for (const name of Object.keys(store.secrets).sort()) {
    if (!dataKey) {
      failed.push({ name, code: keys[0]?.code ?? "E_PROVIDER" });
      continue;
    }
    try {
      wipe(openValue(dataKey, storedEnvelope(store, name)));
      ok.push(name);
    } catch (e) {
      failed.push({ name, code: (e as SealkitError).code ?? "E_AUTH" });
    }
  }
  wipe(dataKey);
  return { ok, failed, keys };
}
