import { toBase64 } from "./_bytes.js";
import { KEY_BYTES } from "./aead.js";
import { SealkitError, isSealkitError } from "./errors.js";
import { type WrapContext, type WrappedKey, wrappedBytes } from "./format.js";

/** What every provider call receives besides the key bytes. */
export interface ProviderCall {
  /** The master key reference, in the provider's own syntax (ARN, key URL, label...). */
  readonly keyRef: string;
  /** Bound into the key-service call (AWS encryption context, GCP AAD, ...). */
  readonly context: WrapContext;
  /** Cancels the call (per-attempt timeout, overall deadline). */
  readonly signal?: AbortSignal;
}

export interface WrapResult {
  readonly wrapped: Uint8Array;
  /** The key reference to record, when the service pins it (a key version, a resolved ARN). */
  readonly keyRef?: string;
}

/**
 * The key-provider contract: an id and two or three stateless methods. Providers only talk
 * to their key service; every invariant (key length, provider id, error typing) is
 * enforced once, in `guardProvider`, not in each implementation.
 */
export interface KeyProvider {
  readonly id: string;
  wrap(dataKey: Uint8Array, call: ProviderCall): Promise<WrapResult>;
  unwrap(wrapped: Uint8Array, call: ProviderCall): Promise<Uint8Array>;
  /** Re-wraps on the server without exposing the data key (AWS ReEncrypt). Optional. */
  rewrap?(wrapped: Uint8Array, call: ProviderCall & { readonly toKeyRef: string }): Promise<WrapResult>;
  /** Releases sessions or clients. Optional. */
  dispose?(): void | Promise<void>;
}

/** A provider registered by id whose implementation (and SDK) loads on first use. */
export interface LazyProvider {
  readonly id: string;
  load(): Promise<KeyProvider>;
}

/** The unwrap-only guarded face of a provider: all the runtime needs (and all it bundles). */
export interface Unwrapper {
  readonly id: string;
  unwrapKey(record: WrappedKey, signal?: AbortSignal): Promise<Uint8Array>;
}

/** The guarded face of a provider, as stores and the CLI use it. */
export interface GuardedProvider extends Unwrapper {
  readonly canRewrap: boolean;
  wrapKey(dataKey: Uint8Array, call: ProviderCall): Promise<WrappedKey>;
  rewrapKey(record: WrappedKey, toKeyRef: string, signal?: AbortSignal): Promise<WrappedKey>;
  dispose(): Promise<void>;
}

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

// One registry per realm, shared by every copy of this module a bundle might contain.
const REGISTRY_KEY = Symbol.for("sealkit.providers");
type Entry = {
  lazy: LazyProvider;
  loaded?: Promise<KeyProvider>;
  guarded?: Promise<GuardedProvider>;
  unwrapper?: Promise<Unwrapper>;
};
const registry: Map<string, Entry> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= new Map()) as Map<
  string,
  Entry
>;

const disposeLater = (e: Entry | undefined) => void e?.loaded?.then((p) => p.dispose?.()).catch(() => {});

/**
 * Registers a provider by id. Providers call this when their module is imported; no
 * central code lists them. A later registration of the same id replaces the earlier one
 * (so tests and CLIs can inject a configured instance).
 */
export function registerProvider(provider: KeyProvider | LazyProvider): void {
  if (!provider || typeof provider.id !== "string" || !PROVIDER_ID.test(provider.id)) {
    throw new TypeError("provider.id: expected lowercase letters, digits and dashes");
  }
  const lazy: LazyProvider =
    "load" in provider && typeof provider.load === "function"
      ? provider
      : { id: provider.id, load: async () => provider as KeyProvider };
  const old = registry.get(provider.id);
  registry.set(provider.id, { lazy });
  disposeLater(old);
}

export function unregisterProvider(id: string): void {
  const old = registry.get(id);
  registry.delete(id);
  disposeLater(old);
}

export function registeredProviders(): string[] {
  return [...registry.keys()].sort();
}

export function hasProvider(id: string): boolean {
  return registry.has(id);
}

/** Loads a registered provider (and its SDK) once; checks that it is who it says it is. */
function loadProvider(id: string): Promise<KeyProvider> {
  const entry = registry.get(id);
  if (!entry) {
    return Promise.reject(
      new SealkitError(
        "E_CONFIG",
        `no key provider "${id}" is registered: import "@sealkit/${id}" (bundles built with @sealkit/plugin do this for you)`,
        { details: { provider: id } },
      ),
    );
  }
  if (!entry.loaded) {
    entry.loaded = entry.lazy.load().then(
      (p) => {
        if (p?.id !== id) {
          throw new SealkitError("E_CONFIG", `provider registered as "${id}" reports id "${p?.id}"`, {
            details: { provider: id },
          });
        }
        return p;
      },
      (e) => {
        entry.loaded = undefined;
        throw toProviderError(e, id, "load");
      },
    );
  }
  return entry.loaded;
}

/** The guarded provider for an id, for sealing and re-keying. Loads it on first use. */
export function getProvider(id: string): Promise<GuardedProvider> {
  const entry = registry.get(id);
  if (entry?.guarded) return entry.guarded;
  const g = loadProvider(id).then((p) => guardProvider(p, id));
  if (entry) {
    entry.guarded = g;
    g.catch(() => (entry.guarded = undefined));
  }
  return g;
}

/** The unwrap-only guarded provider for an id. Loads it on first use. */
export function getUnwrapper(id: string): Promise<Unwrapper> {
  const entry = registry.get(id);
  if (entry?.unwrapper) return entry.unwrapper;
  const u = loadProvider(id).then((p) => guardUnwrap(p, id));
  if (entry) {
    entry.unwrapper = u;
    u.catch(() => (entry.unwrapper = undefined));
  }
  return u;
}

/** Disposes every loaded provider (sessions, clients). */
export async function disposeProviders(): Promise<void> {
  const loaded = [...registry.values()].map((e) => e.loaded).filter(Boolean) as Promise<KeyProvider>[];
  for (const e of registry.values()) e.loaded = e.guarded = e.unwrapper = undefined;
  await Promise.allSettled(loaded.map(async (p) => (await p).dispose?.()));
}

function checkId(p: KeyProvider, expectedId: string): void {
  if (p.id !== expectedId) {
    throw new SealkitError("E_CONFIG", `provider registered as "${expectedId}" reports id "${p.id}"`, {
      details: { provider: expectedId },
    });
  }
}

/* Precondition: a record is only handed to the provider it names. */
function checkRecord(id: string, r: WrappedKey): void {
  if (r.provider !== id) {
    throw new SealkitError("E_CONFIG", `wrapped key of provider "${r.provider}" handed to provider "${id}"`, {
      details: { provider: id, keyRef: r.keyRef },
    });
  }
}

/**
 * The unwrap half of the guard, kept separate so the runtime bundles no wrap code:
 * records only go to the provider they name, the result is exactly a 32-byte data key,
 * and every error leaves as a `SealkitError`.
 */
export function guardUnwrap(p: KeyProvider, expectedId = p.id): Unwrapper {
  checkId(p, expectedId);
  return {
    id: p.id,
    async unwrapKey(r, signal) {
      checkRecord(p.id, r);
      let out: Uint8Array;
      try {
        out = await p.unwrap(wrappedBytes(r), { keyRef: r.keyRef, context: r.context, ...(signal ? { signal } : {}) });
      } catch (e) {
        throw toProviderError(e, p.id, "unwrap", r.keyRef);
      }
      /* Postcondition: exactly a 32-byte data key. */
      if (!(out instanceof Uint8Array) || out.length !== KEY_BYTES) {
        out?.fill?.(0);
        throw new SealkitError("E_PROVIDER", `provider "${p.id}" unwrapped a data key of the wrong length`, {
          details: { provider: p.id, keyRef: r.keyRef },
        });
      }
      return out;
    },
  };
}

/**
 * Wraps a provider so every invariant is checked in one place:
 * - data keys are 32 bytes going in and coming out;
 * - a record is only handed to the provider whose id it names;
 * - every error leaves as a `SealkitError` with a code.
 */
export function guardProvider(p: KeyProvider, expectedId = p.id): GuardedProvider {
  const unwrapper = guardUnwrap(p, expectedId);
  const record = (res: WrapResult, keyRef: string, context: WrapContext): WrappedKey => {
    /* Postcondition: a non-empty wrapped key. */
    if (!(res?.wrapped instanceof Uint8Array) || res.wrapped.length === 0) {
      throw new SealkitError("E_PROVIDER", `provider "${p.id}" returned no wrapped key`, { details: { provider: p.id } });
    }
    return Object.freeze({
      provider: p.id,
      keyRef: res.keyRef ?? keyRef,
      wrapped: toBase64(res.wrapped),
      context: Object.freeze({ ...context }),
    });
  };
  return {
    ...unwrapper,
    canRewrap: typeof p.rewrap === "function",
    async wrapKey(dataKey, call) {
      /* Precondition: a 32-byte data key. */
      if (!(dataKey instanceof Uint8Array) || dataKey.length !== KEY_BYTES) {
        throw new RangeError(`dataKey: expected ${KEY_BYTES} bytes`);
      }
      try {
        return record(await p.wrap(dataKey, call), call.keyRef, call.context);
      } catch (e) {
        throw toProviderError(e, p.id, "wrap", call.keyRef);
      }
    },
    async rewrapKey(r, toKeyRef, signal) {
      checkRecord(p.id, r);
      if (!p.rewrap) {
        throw new SealkitError("E_CONFIG", `provider "${p.id}" cannot re-wrap on the server`, { details: { provider: p.id } });
      }
      try {
        const res = await p.rewrap(wrappedBytes(r), {
          keyRef: r.keyRef,
          toKeyRef,
          context: r.context,
          ...(signal ? { signal } : {}),
        });
        return record(res, toKeyRef, r.context);
      } catch (e) {
        throw toProviderError(e, p.id, "rewrap", r.keyRef);
      }
    },
    async dispose() {
      await p.dispose?.();
    },
  };
}

function toProviderError(e: unknown, provider: string, op: string, keyRef?: string): SealkitError {
  if (isSealkitError(e)) return e;
  if (e instanceof RangeError || e instanceof TypeError) {
    return new SealkitError("E_INPUT", `${provider} ${op}: ${e.message}`, { cause: e, details: { provider, op } });
  }
  const err = e as { name?: string; message?: string };
  const aborted = err?.name === "AbortError" || err?.name === "TimeoutError";
  return new SealkitError(
    aborted ? "E_TIMEOUT" : "E_PROVIDER",
    `${provider} ${op} failed${keyRef ? ` for ${keyRef}` : ""}: ${err?.name ?? "Error"}: ${String(err?.message ?? e).slice(0, 300)}`,
    { cause: e, details: { provider, op, ...(keyRef ? { keyRef } : {}) } },
  );
}

/**
 * Unwraps a data key from the first record that works, in order. Returns the data key and
 * the index of the record that opened it. When every record fails, throws the error of the
 * first one (the primary key), with the others' codes in `details.attempts`.
 */
export async function unwrapFirst(
  records: readonly WrappedKey[],
  signal?: AbortSignal,
): Promise<{ dataKey: Uint8Array; index: number }> {
  if (records.length === 0) throw new SealkitError("E_FORMAT", "no wrapped data keys to unwrap");
  const errors: SealkitError[] = [];
  for (const [index, r] of records.entries()) {
    try {
      const p = await getUnwrapper(r.provider);
      return { dataKey: await p.unwrapKey(r, signal), index };
    } catch (e) {
      errors.push(toProviderError(e, r.provider, "unwrap", r.keyRef));
    }
  }
  const first = errors[0] as SealkitError;
  if (errors.length === 1) throw first;
  throw new SealkitError(first.code, `${first.message} (and ${errors.length - 1} other master key(s) failed too)`, {
    cause: first,
    details: { attempts: errors.map((x, i) => ({ keyRef: records[i]?.keyRef, code: x.code })) },
    retryable: errors.some((x) => x.retryable),
  });
}
