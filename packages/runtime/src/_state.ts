import type { KeyRecord } from "@sealkit/envelope";
import { type RuntimeOptions, type Settings, resolveSettings } from "./_config.js";

/** An unwrapped data key and its lifetime. `key` is zero-filled when the slot is dropped. */
export interface KeySlot {
  readonly key: Uint8Array;
  readonly unwrappedAt: number;
  readonly expiresAt: number;
  /** Per-cipher derived handle (a WebCrypto CryptoKey); dropped with the slot. */
  handle?: unknown;
  /** The last refresh failed with this error; a transient one allows serving stale. */
  failed?: unknown;
  /** No background refresh before this time (after a failed one). */
  retryAt: number;
  /** Set when the key is wiped: a read still holding the slot must not use it. */
  dead?: boolean;
}

export interface StoreState {
  record: KeyRecord;
  /** `"<provider>:<keyRef>"` of the master keys the build recorded; undefined = not pinned. */
  pins?: Set<string>;
  slot?: KeySlot;
  /** The one unwrap in flight (single flight). */
  flight?: Promise<KeySlot>;
  /** Index in record.keys of the master key that worked last. */
  preferred: number;
  /** Bumped by dispose(): an unwrap that lands afterwards is wiped, not installed. */
  epoch: number;
}

/** A decoded envelope, still sealed, ready to open: decoded once, read many times. */
export interface Entry {
  readonly name: string;
  readonly store: StoreState;
  readonly nonce: Uint8Array;
  /** Ciphertext || tag, and the two parts. */
  readonly sealed: Uint8Array;
  readonly ct: Uint8Array;
  readonly tag: Uint8Array;
  readonly aad: Uint8Array;
}

/** AES-256-GCM open over a key slot. Must check the tag before releasing any byte. */
export interface Cipher {
  open(slot: KeySlot, entry: Entry): Uint8Array | Promise<Uint8Array>;
}

export type Fallback = (name: string) => Promise<{ keyRecord: KeyRecord; envelope: string }>;

interface State {
  stores: Map<string, StoreState>;
  /** name -> compact envelope text, as registered. */
  texts: Map<string, string>;
  /** name -> decoded envelope. */
  entries: Map<string, Entry>;
  cipher?: Cipher;
  fallback?: Fallback;
  options: RuntimeOptions;
  settings?: Settings;
  /** How many entries of the realm's envelope queue (see `takeQueued`) are taken in. */
  queued?: number;
}

// One state per realm, even if a bundle ends up with two copies of this module.
const KEY = Symbol.for("sealkit.runtime.v1");
const g = globalThis as Record<symbol, unknown>;
export const state: State = (g[KEY] ??= {
  stores: new Map(),
  texts: new Map(),
  entries: new Map(),
  options: {},
}) as State;

/** The effective settings: computed once, again after configure(). */
export function settings(): Settings {
  if (!state.settings) state.settings = resolveSettings(state.options);
  return state.settings;
}
