import {
  type Aead,
  type Envelope,
  type KeyRecord,
  SealkitError,
  decodeEnvelope,
  decodeKeyRecord,
  fromUtf8,
  nobleAead,
  openValue,
  unwrapFirst,
  wipe,
} from "@sealkit/envelope";

/**
 * Secret names known at build time. `sealkit types` (and the plugin) write a declaration
 * that augments this interface, so that an unknown name is a TypeScript error:
 *
 *   declare module "@sealkit/runtime" { interface SecretNames { "db-password": true } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by generated declarations
export interface SecretNames {}
export type SecretName = [keyof SecretNames] extends [never] ? string : Extract<keyof SecretNames, string>;

interface StoreState {
  record: KeyRecord;
  dataKey?: Promise<Uint8Array>;
}

interface State {
  stores: Map<string, StoreState>;
  /** name -> compact envelope text; decoded on read, so nothing is parsed at start. */
  envelopes: Map<string, string>;
  aead: Aead;
  /** Fallback used when a name has no registered envelope (the Node entry reads the store). */
  fallback?: (name: string) => Promise<{ record: KeyRecord; envelope: string } | undefined>;
}

// One state per realm, even if a bundle ends up with two copies of this module.
const STATE_KEY = Symbol.for("sealkit.runtime");
const g = globalThis as Record<symbol, unknown>;
const state: State = (g[STATE_KEY] ??= { stores: new Map(), envelopes: new Map(), aead: nobleAead }) as State;

/** Replaces the AES-GCM implementation (the Node entry installs node:crypto). */
export function setAead(aead: Aead): void {
  state.aead = aead;
}

export function setFallback(fn: State["fallback"]): void {
  state.fallback = fn;
}

/**
 * Called by code the plugin generates: registers a store's data-key record (once per store)
 * and the envelopes of the secrets a module references.
 */
export function register(keyRecord: string, envelopes: Readonly<Record<string, string>>): void {
  const record = decodeKeyRecord(keyRecord);
  const existing = state.stores.get(record.storeId);
  if (!existing) state.stores.set(record.storeId, { record });
  else if (existing.record.generation !== record.generation) {
    throw new SealkitError(
      "E_CONFIG",
      `two generations (${existing.record.generation} and ${record.generation}) of store ${record.storeId} in one bundle: rebuild`,
      { details: { storeId: record.storeId } },
    );
  }
  for (const [name, text] of Object.entries(envelopes)) state.envelopes.set(name, text);
}

function dataKeyFor(store: StoreState): Promise<Uint8Array> {
  if (!store.dataKey) {
    // Single flight: every concurrent caller awaits this one unwrap.
    store.dataKey = unwrapFirst(store.record.keys).then(
      (r) => r.dataKey,
      (e) => {
        store.dataKey = undefined;
        throw e;
      },
    );
  }
  return store.dataKey;
}

async function locate(name: string): Promise<{ store: StoreState; envelope: Envelope }> {
  if (typeof name !== "string") throw new TypeError("name: expected a string");
  let text = state.envelopes.get(name);
  if (text === undefined && state.fallback) {
    const found = await state.fallback(name);
    if (found) {
      if (!state.stores.has(found.record.storeId)) state.stores.set(found.record.storeId, { record: found.record });
      text = found.envelope;
    }
  }
  if (text === undefined) {
    throw new SealkitError(
      "E_NOT_FOUND",
      `no envelope for secret "${name}" in this bundle: build with @sealkit/plugin, or in development run on Node next to sealkit.secrets.json (or set SEALKIT_STORE)`,
      { details: { name } },
    );
  }
  const envelope = decodeEnvelope(text);
  if (envelope.name !== name) throw new SealkitError("E_AUTH", "envelope registered under another name", { details: { name } });
  const store = state.stores.get(envelope.storeId);
  if (!store || store.record.generation !== envelope.generation) {
    throw new SealkitError("E_CONFIG", `no data-key record for the store of secret "${name}" in this bundle: rebuild`, {
      details: { name },
    });
  }
  return { store, envelope };
}

/** Opens one secret as bytes. The caller owns (and may wipe) the returned buffer. */
export async function secretBytes(name: SecretName): Promise<Uint8Array> {
  const { store, envelope } = await locate(name);
  const dataKey = await dataKeyFor(store);
  return openValue(dataKey, envelope, state.aead);
}

/** Opens one secret as UTF-8 text. */
export async function secret(name: SecretName): Promise<string> {
  const bytes = await secretBytes(name);
  try {
    return fromUtf8(bytes);
  } catch {
    throw new SealkitError("E_FORMAT", `secret "${name}" is binary, not UTF-8 text: read it with secretBytes()`, {
      details: { name },
    });
  } finally {
    bytes.fill(0);
  }
}

/** Unwraps the data key of every registered store now (use with top-level await at init). */
export async function preload(): Promise<void> {
  await Promise.all([...state.stores.values()].map(dataKeyFor));
}

/** Wipes every cached data key. The next read unwraps again. */
export async function dispose(): Promise<void> {
  const pending = [...state.stores.values()].map((s) => s.dataKey);
  for (const s of state.stores.values()) s.dataKey = undefined;
  for (const p of pending) {
    if (p) await p.then(wipe, () => {});
  }
}
