import type { Settings } from "./_config.js";

export type SealkitEventType =
  | "unwrap.start"
  | "unwrap.success"
  | "unwrap.failure"
  | "cache.hit"
  | "cache.miss"
  | "cache.expired"
  | "cache.refresh"
  | "cache.stale"
  | "cache.wiped"
  | "secret.read";

/**
 * One audit event. It names stores, master keys and secrets, never a value or a key:
 * the fields below are the only ones an event can carry.
 */
export interface SealkitEvent {
  readonly type: SealkitEventType;
  /** The runtime clock, in milliseconds. */
  readonly time: number;
  readonly storeId?: string;
  readonly generation?: number;
  /** unwrap.*: the provider id and the master key reference. */
  readonly provider?: string;
  readonly keyRef?: string;
  /** unwrap.*: 1 for the first call under this master key. */
  readonly attempt?: number;
  /** unwrap.success / unwrap.failure: how long the call took. */
  readonly durationMs?: number;
  /** unwrap.failure, cache.stale: the error code. */
  readonly code?: string;
  readonly retryable?: boolean;
  /** unwrap.*, cache.refresh: whether no reader is waiting for it. */
  readonly background?: boolean;
  /** secret.read: the secret's name. */
  readonly name?: string;
  /** cache.wiped: expired, replaced, dispose, failed. */
  readonly reason?: string;
  /** cache.expired / cache.stale: how long ago the data key was unwrapped. */
  readonly ageMs?: number;
}

type Fields = Omit<SealkitEvent, "type" | "time">;

/** Whether anybody listens; callers on the warm path check this before building an event. */
export function listening(s: Settings): boolean {
  return s.onEvent !== undefined || s.log === "json";
}

export function emit(s: Settings, type: SealkitEventType, fields: Fields): void {
  if (!listening(s)) return;
  const event: SealkitEvent = { type, time: s.clock(), ...fields };
  if (s.onEvent) {
    try {
      s.onEvent(event);
    } catch {
      // An audit hook must not break a read.
    }
  }
  if (s.log === "json") console.error(JSON.stringify({ source: "sealkit", ...event }));
}
