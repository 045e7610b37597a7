import { SealkitError } from "@sealkit/envelope";
import type { Settings } from "./_config.js";
import { emit, listening } from "./_events.js";
import type { KeySlot, StoreState } from "./_state.js";
import { isRetryable, unwrapWithRetry } from "./_unwrap.js";

/** After a failed background refresh, the next one waits at least this long. */
export const REFRESH_PAUSE = 5_000;

/** Wipes the slot's data key and forgets it. */
export function drop(store: StoreState, s: Settings, reason: string): void {
  const slot = store.slot;
  if (!slot) return;
  store.slot = undefined;
  wipeSlot(slot);
  emit(s, "cache.wiped", { storeId: store.record.storeId, reason });
}

function wipeSlot(slot: KeySlot): void {
  slot.dead = true;
  slot.key.fill(0);
  slot.handle = undefined;
}

/**
 * Starts (or joins) the one unwrap of this store. On success the new slot replaces the old
 * one, whose key is wiped. On failure the old slot, if any, records the error.
 */
export function refresh(store: StoreState, s: Settings, background: boolean): Promise<KeySlot> {
  if (store.flight) return store.flight;
  const epoch = store.epoch;
  const flight: Promise<KeySlot> = unwrapWithRetry(store, s, background).then(
    ({ key, index }) => {
      if (store.flight === flight) store.flight = undefined;
      if (store.epoch !== epoch) {
        key.fill(0);
        throw disposed();
      }
      store.preferred = index;
      const now = s.clock();
      const slot: KeySlot = { key, unwrappedAt: now, expiresAt: now + s.ttl, retryAt: 0 };
      if (store.slot) drop(store, s, "replaced");
      store.slot = slot;
      return slot;
    },
    (e: unknown) => {
      if (store.flight === flight) store.flight = undefined;
      const slot = store.slot;
      if (slot && store.epoch === epoch) {
        slot.failed = e;
        slot.retryAt = s.clock() + REFRESH_PAUSE;
      }
      throw e;
    },
  );
  store.flight = flight;
  if (background) flight.catch(() => {});
  return flight;
}

/**
 * The data key of a store for one read: the cached slot while fresh (starting a background
 * refresh near expiry), else the result of the single unwrap in flight. Expiry is checked by
 * the clock here, on access: a frozen function runs no timers.
 */
export function slotFor(store: StoreState, s: Settings): KeySlot | Promise<KeySlot> {
  const slot = store.slot;
  const now = s.clock();
  const ahead = Math.min(s.refreshAhead, s.ttl / 2);
  // The warm path: no allocation unless somebody listens.
  if (slot && now < slot.expiresAt - ahead) {
    if (listening(s)) emit(s, "cache.hit", { storeId: store.record.storeId });
    return slot;
  }
  const ids = { storeId: store.record.storeId };
  if (slot) {
    if (now < slot.expiresAt) {
      // Refresh-ahead: near expiry, unwrap in the background; this read keeps the current key.
      if (!store.flight && now >= slot.retryAt) {
        emit(s, "cache.refresh", ids);
        void refresh(store, s, true);
      }
      emit(s, "cache.hit", ids);
      return slot;
    }
    const ageMs = now - slot.unwrappedAt;
    if (now < slot.expiresAt + s.staleIfError) {
      // Stale-if-error (RFC 5861 in spirit): the old key only outlives its TTL while the key
      // service fails transiently. A denial or a disabled key is never papered over.
      if (slot.failed !== undefined && isRetryable(slot.failed)) {
        if (!store.flight && now >= slot.retryAt) void refresh(store, s, true);
        emit(s, "cache.stale", { ...ids, ageMs, code: (slot.failed as SealkitError).code });
        return slot;
      }
      emit(s, "cache.expired", { ...ids, ageMs });
      return refresh(store, s, false).catch((e: unknown) => {
        if (store.slot === slot && isRetryable(e) && s.clock() < slot.expiresAt + s.staleIfError) {
          emit(s, "cache.stale", { ...ids, ageMs, code: (e as SealkitError).code });
          return slot;
        }
        if (store.slot === slot) drop(store, s, "failed");
        throw e;
      });
    }
    emit(s, "cache.expired", { ...ids, ageMs });
    drop(store, s, "expired");
  }
  emit(s, "cache.miss", ids);
  return refresh(store, s, false);
}

export const disposed = (): SealkitError => new SealkitError("E_CONFIG", "dispose() ran during this read");
