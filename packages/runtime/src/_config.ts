import { SealkitError } from "@sealkit/envelope";
import type { SealkitEvent } from "./_events.js";

/** Options of `configure()`. Durations are milliseconds. */
export interface RuntimeOptions {
  /** How long an unwrapped data key is used before it is wiped and unwrapped again. */
  ttl?: number;
  /** How long before expiry a read starts a background refresh (clamped to half the TTL). */
  refreshAhead?: number;
  /**
   * After expiry, how long the old data key may still be served while the key service fails
   * with a transient error (throttled, timeout, unavailable). 0 = fail closed.
   */
  staleIfError?: number;
  /** Timeout of one key-service call (passed to the provider as an AbortSignal). */
  timeout?: number;
  /** Overall deadline of one unwrap, retries and backoff included. */
  deadline?: number;
  /** Key-service calls per master key per unwrap, first call included (≥ 1). */
  attempts?: number;
  /** First backoff step; full jitter draws from [0, min(backoffCap, backoff·2^retry)). */
  backoff?: number;
  /** Largest backoff step. */
  backoffCap?: number;
  /** Audit hook: receives every event. Errors thrown by it are ignored. */
  onEvent?: ((event: SealkitEvent) => void) | undefined;
  /** `json` writes one JSON line per event to the console's error stream (stderr on Node). */
  log?: "json" | "off";
  /** Milliseconds since some epoch; tests inject a fake clock. Default `Date.now`. */
  clock?: (() => number) | undefined;
}

export interface Settings {
  readonly ttl: number;
  readonly refreshAhead: number;
  readonly staleIfError: number;
  readonly timeout: number;
  readonly deadline: number;
  readonly attempts: number;
  readonly backoff: number;
  readonly backoffCap: number;
  readonly onEvent: ((event: SealkitEvent) => void) | undefined;
  readonly log: "json" | "off";
  readonly clock: () => number;
}

/** The defaults; docs/runtime.md says why each is what it is. */
export const RUNTIME_DEFAULTS = Object.freeze({
  ttl: 300_000,
  refreshAhead: 60_000,
  staleIfError: 300_000,
  timeout: 3_000,
  deadline: 10_000,
  attempts: 10,
  backoff: 50,
  backoffCap: 1_000,
  log: "off" as "json" | "off",
});

/** The environment variable of an option: `staleIfError` -> `SEALKIT_STALE_IF_ERROR`. */
export const envName = (key: string): string => `SEALKIT_${key.replace(/[A-Z]/g, "_$&").toUpperCase()}`;

const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function bad(field: string, why: string): SealkitError {
  return new SealkitError("E_CONFIG", `sealkit runtime: ${field} ${why}`, { details: { field } });
}

/** `300`, `300s`, `5m`, `1500ms`, `1h`: a bare number is seconds, as in Cache-Control. */
export function parseDuration(text: string, field: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw bad(field, "must be a duration like 300 (s), 5m or 1500ms");
  return Math.round(Number(m[1]) * (UNIT[m[2] ?? "s"] as number));
}

/** Environment variables override code, so operators change a knob without a rebuild. */
function fromEnv(): Record<string, unknown> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(RUNTIME_DEFAULTS)) {
    const name = envName(key);
    const text = env?.[name];
    if (!text) continue;
    if (key === "log") out[key] = text;
    else if (key === "attempts") {
      if (!/^\s*\d+\s*$/.test(text)) throw bad(name, "must be a whole number");
      out[key] = Number(text);
    } else out[key] = parseDuration(text, name);
  }
  return out;
}

/** Defaults, then code (`configure`), then environment variables: the operator has the last word. */
export function resolveSettings(code: RuntimeOptions): Settings {
  const env = fromEnv();
  const s = { ...RUNTIME_DEFAULTS, clock: Date.now, onEvent: undefined, ...code, ...env } as Record<string, unknown>;
  const field = (k: string) => (k in env ? envName(k) : k);
  for (const k of Object.keys(RUNTIME_DEFAULTS)) {
    if (k === "log") continue;
    // ttl, timeout, deadline and attempts must be positive; the rest may be 0.
    const min = /^(ttl|timeout|deadline|attempts)$/.test(k) ? 1 : 0;
    const v = s[k] as number;
    if (typeof v !== "number" || !(v >= min && v < Number.POSITIVE_INFINITY) || (k === "attempts" && !Number.isInteger(v))) {
      throw bad(field(k), `must be a ${k === "attempts" ? "whole " : ""}number ≥ ${min}, got ${String(v)}`);
    }
  }
  if (s.log !== "json" && s.log !== "off") throw bad(field("log"), `must be "json" or "off"`);
  for (const k of ["onEvent", "clock"]) if (s[k] !== undefined && typeof s[k] !== "function") throw bad(k, "must be a function");
  return s as unknown as Settings;
}
