import {
  ENVELOPE_QUEUE,
  type KeyRecord,
  SealkitError,
  TAG_BYTES,
  decodeEnvelope,
  decodeKeyRecord,
  disposeProviders,
  fromUtf8,
  valueAad,
} from "@sealkit/envelope";
import { disposed, drop, slotFor } from "./_cache.js";
import { webCipher } from "./_cipher.js";
import { RUNTIME_DEFAULTS, type RuntimeOptions, type Settings, resolveSettings } from "./_config.js";
import { emit, listening } from "./_events.js";
import { type Cipher, type Entry, type Fallback, type KeySlot, type StoreState, settings, state } from "./_state.js";

export { RUNTIME_DEFAULTS, type RuntimeOptions } from "./_config.js";
export type { SealkitEvent, SealkitEventType } from "./_events.js";
export { SealkitError, isSealkitError, type ErrorCode } from "@sealkit/envelope";

/**
 * Secret names known at build time. The plugin (and `sealkit types`) write a declaration
 * that augments this interface, so that an unknown name is a TypeScript error:
 *
 *   declare module "@sealkit/runtime" { interface SecretNames { "db-password": true } }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by generated declarations
export interface SecretNames {}
export type SecretName = [keyof SecretNames] extends [never] ? string : Extract<keyof SecretNames, string>;

export interface RegisterOptions {
  /** `"<provider>:<keyRef>"` of each master key the build recorded; no other key is used. */
  readonly pins?: readonly string[];
}

/** Replaces the AES-GCM implementation (the Node entry installs node:crypto). */
export function setCipher(cipher: Cipher): void {
  state.cipher = cipher;
}

/** Installs the lookup used when a name has no registered envelope (the Node entry reads the store). */
export function setFallback(fn: Fallback | undefined): void {
  state.fallback = fn;
}

function addStore(record: KeyRecord): StoreState {
  const existing = state.stores.get(record.storeId);
  if (!existing) {
    const store: StoreState = { record, preferred: 0, epoch: 0 };
    state.stores.set(record.storeId, store);
    return store;
  }
  if (existing.record.generation !== record.generation) {
    throw new SealkitError(
      "E_CONFIG",
      `two generations of store ${record.storeId} in one process: rebuild`,
      { details: { storeId: record.storeId } },
    );
  }
  return existing;
}

/**
 * Called by the code the plugin generates: registers a store's data-key record and the
 * envelopes of the secrets a module references, and the master keys the build pinned.
 * Nothing is decoded or unwrapped here; that happens on the first read.
 */
export function register(keyRecord: string, envelopes: Readonly<Record<string, string>>, options: RegisterOptions = {}): void {
  const store = addStore(decodeKeyRecord(keyRecord));
  const pins = options?.pins;
  if (pins !== undefined) {
    store.pins ??= new Set();
    for (const p of pins) {
      if (typeof p !== "string" || !p.includes(":")) throw new TypeError('pins: expected "<provider>:<keyRef>" strings');
      store.pins.add(p);
    }
  }
  addTexts(envelopes);
}

function addTexts(envelopes: Readonly<Record<string, unknown>>): void {
  for (const [name, text] of Object.entries(envelopes)) {
    if (typeof text === "string" && state.texts.get(name) !== text) {
      state.texts.set(name, text);
      state.entries.delete(name);
    }
  }
}

/**
 * Envelopes that bundle chunks queued in the realm (ENVELOPE_QUEUE): the Vite plugin starts
 * each chunk that reads secrets with a push of their envelopes, while the data-key record is
 * registered by its stand-in for this module. Taken in when a lookup misses, so the order
 * in which chunks and the runtime load does not matter.
 */
const QUEUE = Symbol.for(ENVELOPE_QUEUE);
function takeQueued(): boolean {
  const q = (globalThis as Record<symbol, unknown>)[QUEUE];
  const from = state.queued ?? 0;
  if (!Array.isArray(q) || q.length <= from) return false;
  state.queued = q.length;
  for (const item of q.slice(from)) if (item && typeof item === "object") addTexts(item);
  return true;
}

function decode(name: string, text: string): Entry {
  const env = decodeEnvelope(text);
  if (env.name !== name) {
    throw new SealkitError("E_AUTH", `envelope of "${name}" is bound to another name`, { details: { name } });
  }
  const store = state.stores.get(env.storeId);
  if (!store || store.record.generation !== env.generation) {
    throw new SealkitError("E_CONFIG", `no data-key record for secret "${name}": rebuild`, {
      details: { name, storeId: env.storeId },
    });
  }
  const cut = env.sealed.length - TAG_BYTES;
  const entry: Entry = {
    name,
    store,
    nonce: env.nonce,
    sealed: env.sealed,
    ct: env.sealed.subarray(0, cut),
    tag: env.sealed.subarray(cut),
    aad: valueAad(env, env.version),
  };
  state.entries.set(name, entry);
  return entry;
}

function entryOf(name: string): Entry | Promise<Entry> {
  const text = state.texts.get(name) ?? (takeQueued() ? state.texts.get(name) : undefined);
  if (text !== undefined) return decode(name, text);
  if (state.fallback) {
    return state.fallback(name).then(({ keyRecord, envelope }) => {
      addStore(keyRecord);
      state.texts.set(name, envelope);
      return decode(name, envelope);
    });
  }
  throw new SealkitError(
    "E_NOT_FOUND",
    `no envelope for secret "${name}": build with @sealkit/plugin (or, on Node without a bundler, set SEALKIT_STORE)`,
    { details: { name } },
  );
}

function openWith(slot: KeySlot, e: Entry, s: Settings): Uint8Array | Promise<Uint8Array> {
  if (slot.dead) {
    throw disposed();
  }
  if (listening(s)) emit(s, "secret.read", { name: e.name, storeId: e.store.record.storeId });
  return (state.cipher ?? webCipher).open(slot, e);
}

function withKey(e: Entry, s: Settings): Uint8Array | Promise<Uint8Array> {
  const slot = slotFor(e.store, s);
  return slot instanceof Promise ? slot.then((k) => openWith(k, e, s)) : openWith(slot, e, s);
}

/** One read: synchronous all the way on a warm Node path, so a warm read costs one decrypt. */
function read(name: string): Uint8Array | Promise<Uint8Array> {
  const s = settings();
  const e = state.entries.get(name) ?? entryOf(name);
  return e instanceof Promise ? e.then((x) => withKey(x, s)) : withKey(e, s);
}

/** Opens one secret as bytes. The caller owns the buffer and may wipe it. */
export function secretBytes(name: SecretName): Promise<Uint8Array> {
  try {
    const r = read(name);
    return r instanceof Uint8Array ? Promise.resolve(r) : r;
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Opens one secret as UTF-8 text. */
export async function secret(name: SecretName): Promise<string> {
  const r = read(name);
  const bytes = r instanceof Uint8Array ? r : await r;
  try {
    return fromUtf8(bytes);
  } catch {
    throw new SealkitError("E_FORMAT", `secret "${name}" is not UTF-8: read it with secretBytes()`, {
      details: { name },
    });
  } finally {
    bytes.fill(0);
  }
}

/**
 * Unwraps the data key of every registered store now, so the first request does not wait:
 * `await preload()` at module top level runs during a function's init phase.
 */
export async function preload(): Promise<void> {
  const s = settings();
  await Promise.all([...state.stores.values()].map((store) => slotFor(store, s)));
}

/**
 * Wipes every cached data key and releases provider clients. An unwrap still in flight is
 * wiped when it lands. Registrations stay: the next read unwraps again.
 */
export async function dispose(): Promise<void> {
  const s = settings();
  for (const store of state.stores.values()) {
    store.epoch++;
    store.flight = undefined;
    drop(store, s, "dispose");
  }
  await disposeProviders();
}

/**
 * Sets runtime options in code; merges with earlier calls, and an option given as
 * `undefined` returns to its default. Environment variables (SEALKIT_TTL, ...) still win.
 */
export function configure(options: RuntimeOptions): void {
  const next: Record<string, unknown> = { ...state.options };
  for (const [k, v] of Object.entries(options)) {
    if (!(k in RUNTIME_DEFAULTS || k === "onEvent" || k === "clock")) throw new TypeError(`options.${k}: unknown option`);
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  const resolved = resolveSettings(next);
  state.options = next;
  state.settings = resolved;
}
