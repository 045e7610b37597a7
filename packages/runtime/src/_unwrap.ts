import { type KeyRecord, SealkitError, type WrappedKey, getUnwrapper, isSealkitError } from "@sealkit/envelope";
import type { Settings } from "./_config.js";
import { emit } from "./_events.js";
import type { StoreState } from "./_state.js";

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter", 2015): the wait
 * before retry number `retry` (0-based) is uniform in [0, min(cap, base · 2^retry)).
 * Callers that all fail together then spread out instead of retrying in lock-step.
 */
export function backoffDelay(retry: number, base: number, cap: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(cap, base * 2 ** retry));
}

/** Network errors worth retrying when a provider lets them through unclassified. */
const TRANSIENT = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "UND_ERR_SOCKET"]);

/**
 * Retry classification. Providers map their SDK's errors to E_THROTTLED / E_TIMEOUT /
 * E_UNAVAILABLE (retried) or to fail-fast codes; a raw connection reset that reached the
 * provider guard as E_PROVIDER is recognised by its cause's errno code.
 */
export function isRetryable(e: unknown): boolean {
  if (isSealkitError(e) && e.retryable) return true;
  const x = e as { code?: string; cause?: { code?: string } } | undefined;
  return TRANSIENT.has(x?.code as string) || TRANSIENT.has(x?.cause?.code as string);
}

/** Indexes of the record's wrapped keys the build pinned, in record order. */
export function pinnedKeys(record: KeyRecord, pins: ReadonlySet<string> | undefined): number[] {
  const out: number[] = [];
  record.keys.forEach((k, i) => {
    if (!pins || pins.has(`${k.provider}:${k.keyRef}`)) out.push(i);
  });
  if (out.length === 0) {
    // The key-substitution attack (Berglas): a record naming a master key the build did not record.
    throw new SealkitError(
      "E_KEY_PINNING",
      `store ${record.storeId}: no pinned master key in its data-key record; refusing to unwrap`,
      { details: { storeId: record.storeId, pins: [...(pins ?? [])] } },
    );
  }
  return out;
}

const sleep = (ms: number, background: boolean) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms) as unknown as { unref?: () => void };
    // A background refresh must never keep a process alive; a waiting reader must.
    if (background) t.unref?.();
  });

/** One provider call with a per-attempt timeout. A data key that arrives too late is wiped. */
function callOnce(k: WrappedKey, ms: number, background: boolean): Promise<Uint8Array> {
  return getUnwrapper(k.provider).then(
    (p) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const ac = new AbortController();
        const t = setTimeout(() => {
          const err = new SealkitError("E_TIMEOUT", `${k.provider} unwrap timed out after ${ms} ms`, {
            details: { provider: k.provider, keyRef: k.keyRef },
          });
          ac.abort(err);
          reject(err);
        }, ms) as unknown as { unref?: () => void };
        if (background) t.unref?.();
        p.unwrapKey(k, ac.signal).then(
          (key) => {
            clearTimeout(t as unknown as number);
            if (ac.signal.aborted) key.fill(0);
            else resolve(key);
          },
          (e) => {
            clearTimeout(t as unknown as number);
            reject(e);
          },
        );
      }),
  );
}

/**
 * Unwraps a store's data key: rounds over the pinned master keys in `order` (the one that
 * worked last first), failing over to the next key on any error; a key that fails with a
 * non-retryable error is dropped for this unwrap; between rounds, full-jitter backoff. Stops
 * at `attempts` rounds or the overall deadline.
 */
export async function unwrapWithRetry(
  { record, pins, preferred }: StoreState,
  s: Settings,
  background: boolean,
): Promise<{ key: Uint8Array; index: number }> {
  const order = pinnedKeys(record, pins);
  const p = order.indexOf(preferred);
  if (p > 0) order.unshift(...order.splice(p, 1));
  const { storeId, generation } = record;
  const deadlineAt = s.clock() + s.deadline;
  const errors = new Map<number, SealkitError>();
  const dead = new Set<number>();
  let calls = 0;
  let outOfTime = false;
  for (let round = 0; round < s.attempts && !outOfTime; round++) {
    if (round > 0) {
      const wait = Math.min(backoffDelay(round - 1, s.backoff, s.backoffCap), deadlineAt - s.clock());
      if (wait > 0) await sleep(wait, background);
    }
    for (const i of order) {
      if (dead.has(i)) continue;
      const remaining = deadlineAt - s.clock();
      if (remaining <= 0) {
        outOfTime = true;
        break;
      }
      const k = record.keys[i] as WrappedKey;
      const base = { storeId, generation, provider: k.provider, keyRef: k.keyRef, attempt: round + 1, background };
      emit(s, "unwrap.start", base);
      const started = s.clock();
      calls++;
      try {
        const key = await callOnce(k, Math.min(s.timeout, remaining), background);
        emit(s, "unwrap.success", { ...base, durationMs: s.clock() - started });
        return { key, index: i };
      } catch (e) {
        // getUnwrapper and the provider guard turn every failure into a SealkitError.
        const err = e as SealkitError;
        const retryable = isRetryable(err);
        emit(s, "unwrap.failure", { ...base, durationMs: s.clock() - started, code: err.code, retryable });
        errors.set(i, err);
        if (!retryable) dead.add(i);
      }
    }
    if (dead.size === order.length) break;
  }
  // Report the most preferred key's error (a transient one if any key failed transiently,
  // since that key may come back), with every key's code in details.
  let first: SealkitError | undefined;
  let anyRetryable = false;
  const summary = order.flatMap((i) => {
    const e = errors.get(i);
    if (!e) return [];
    if (isRetryable(e) && !anyRetryable) [first, anyRetryable] = [e, true];
    first ??= e;
    return [{ keyRef: record.keys[i]?.keyRef, code: e.code }];
  });
  if (outOfTime) {
    throw new SealkitError("E_TIMEOUT", `store ${storeId}: ${s.deadline} ms deadline passed (${calls} key-service calls)`, {
      cause: first,
      details: { storeId, calls },
    });
  }
  const f = first as SealkitError;
  throw new SealkitError(f.code, `${f.message} (${calls} key-service calls)`, {
    cause: f,
    details: { ...f.details, storeId, calls, keys: summary },
    retryable: anyRetryable,
  });
}
