/**
 * The Cloud KMS key provider. This module imports the SDK; the package index loads it
 * lazily, on the first wrap or unwrap.
 */
import { KeyManagementServiceClient } from "@google-cloud/kms";
import { crc32c } from "@node-rs/crc32";
import { type KeyProvider, SealkitError, contextAad, wipe } from "@sealkit/envelope";
import { PROVIDER_ID, integrityError, toSealkitError } from "./_errors.js";
import { parseKeyName } from "./key-name.js";
import type { GcpKmsProviderOptions, Int64Like, KeyDescription, KmsCallOptions, KmsClientLike } from "./types.js";

export const DEFAULT_TIMEOUT_MS = 10_000;
export const ENDPOINT_ENV = "SEALKIT_GCP_KMS_ENDPOINT";

/** The Cloud KMS provider, with its one extra read (`describeKey`) for `sealkit init`. */
export interface GcpKmsProvider extends KeyProvider {
  describeKey(keyRef: string, signal?: AbortSignal): Promise<KeyDescription>;
}

// Numeric enum values (REST with enum-encoding=int, or a raw gRPC double) to their names.
const PURPOSES: Record<number, string> = { 1: "ENCRYPT_DECRYPT", 5: "ASYMMETRIC_SIGN", 6: "ASYMMETRIC_DECRYPT", 7: "RAW_ENCRYPT_DECRYPT", 9: "MAC" };
const STATES: Record<number, string> = { 1: "ENABLED", 2: "DISABLED", 3: "DESTROYED", 4: "DESTROY_SCHEDULED", 5: "PENDING_GENERATION" };
const LEVELS: Record<number, string> = { 1: "SOFTWARE", 2: "HSM", 3: "EXTERNAL", 4: "EXTERNAL_VPC", 5: "HSM_SINGLE_TENANT" };
const enumName = (v: unknown, table: Record<number, string>): string | undefined =>
  typeof v === "number" ? (table[v] ?? String(v)) : typeof v === "string" && v ? v : undefined;

const sum = (b: Uint8Array): number => crc32c(b);
const int64 = (v: Int64Like | null | undefined): number | undefined => {
  const raw = v?.value;
  if (raw === undefined || raw === null) return undefined;
  const n = Number(typeof raw === "object" ? raw.toString() : raw);
  return Number.isSafeInteger(n) ? n : undefined;
};
/** Copies SDK bytes into a fresh array and wipes the SDK's copy. */
const takeBytes = (v: Uint8Array | string | null | undefined): Uint8Array => {
  if (v instanceof Uint8Array) {
    const out = new Uint8Array(v);
    v.fill(0);
    return out;
  }
  return typeof v === "string" && v ? new Uint8Array(Buffer.from(v, "base64")) : new Uint8Array(0);
};

// google-gax's per-client logger prints whole requests and responses (`%j`) when
// GOOGLE_SDK_NODE_LOGGING names kms: that would print the data key. Sealkit's clients stay silent.
const silentLog = Object.assign(() => {}, {
  info() {},
  warn() {},
  error() {},
  debug() {},
  sublog() {
    return silentLog;
  },
  on() {},
});

function defaultClient(options: GcpKmsProviderOptions): KmsClientLike {
  const endpoint = options.endpoint ?? process.env[ENDPOINT_ENV];
  const where: Record<string, unknown> = {};
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new SealkitError("E_CONFIG", `gcp-kms: endpoint ${JSON.stringify(endpoint)} is not a URL (expected https://host[:port])`, {
        details: { provider: PROVIDER_ID },
      });
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && /^(127\.0\.0\.1|localhost|\[::1\])$/.test(url.hostname))) {
      throw new SealkitError("E_CONFIG", `gcp-kms: endpoint ${url.origin} must be https (plain http only on localhost)`, {
        details: { provider: PROVIDER_ID },
      });
    }
    where.apiEndpoint = url.hostname.replace(/^\[|\]$/g, "");
    where.protocol = url.protocol.slice(0, -1);
    where.port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  }
  // REST (HTTP/1.1 + JSON) rather than gRPC: see docs/providers/gcp-kms.md.
  const client = new KeyManagementServiceClient({ fallback: true, ...where, ...options.clientOptions });
  if ("_log" in client) (client as unknown as { _log: unknown })._log = silentLog;
  return client as unknown as KmsClientLike;
}

/**
 * Runs one SDK call under a deadline. The REST transport ignores the SDK's own timeout, so
 * the deadline (the caller's signal, or `timeoutMs`) is enforced here. A late answer is
 * discarded through `onLate` (which wipes any data key in it).
 */
async function underDeadline<T>(
  run: () => Promise<T>,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  onLate: (value: T) => void,
): Promise<T> {
  const deadline = signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  if (deadline.aborted) throw Object.assign(new Error("aborted before the call"), { name: "AbortError" });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(Object.assign(new Error("deadline reached"), { name: "TimeoutError" }));
    deadline.addEventListener("abort", onAbort, { once: true });
  });
  const call = run();
  try {
    return await Promise.race([call, aborted]);
  } catch (e) {
    if (deadline.aborted) call.then(onLate, () => {});
    throw e;
  } finally {
    if (onAbort) deadline.removeEventListener("abort", onAbort);
  }
}

export function createProvider(options: GcpKmsProviderOptions = {}): GcpKmsProvider {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // The runtime retries (with its own budget); the SDK must not retry underneath it.
  const callOptions: KmsCallOptions = { retry: null, timeout: timeoutMs };
  let ready: Promise<KmsClientLike> | undefined;

  /**
   * The client, created and initialised once. Credential discovery happens in
   * `initialize()`; doing it here, awaited, turns "no credentials" into one typed error
   * instead of the SDK's unhandled rejection, and a failed start is retried next call.
   */
  const client = (op: string, keyRef: string): Promise<KmsClientLike> => {
    if (!ready) {
      ready = (async () => {
        const c = options.client ?? defaultClient(options);
        await c.initialize?.();
        return c;
      })();
      ready.catch(() => {
        ready = undefined;
      });
    }
    return ready.catch((e) => {
      throw toSealkitError(e, op, keyRef);
    });
  };

  const call = async <T>(op: string, keyRef: string, signal: AbortSignal | undefined, run: (c: KmsClientLike) => Promise<T>, onLate: (v: T) => void = () => {}) => {
    const c = await client(op, keyRef);
    try {
      return await underDeadline(() => run(c), signal, timeoutMs, onLate);
    } catch (e) {
      throw toSealkitError(e, op, keyRef);
    }
  };

  return {
    id: PROVIDER_ID,

    async wrap(dataKey, { keyRef, context, signal }) {
      // Always the CryptoKey, never a pinned version: Cloud KMS encrypts under the primary
      // version, which is what `rekey` relies on. The version used comes back as the keyRef.
      const { cryptoKey } = parseKeyName(keyRef);
      const aad = contextAad(context);
      const [res] = await call("encrypt", cryptoKey, signal, (c) =>
        c.encrypt(
          {
            name: cryptoKey,
            plaintext: dataKey,
            additionalAuthenticatedData: aad,
            plaintextCrc32c: { value: sum(dataKey) },
            additionalAuthenticatedDataCrc32c: { value: sum(aad) },
          },
          callOptions,
        ),
      );
      /* Postconditions (Cloud KMS data-integrity guidelines): the service saw our checksums, the
         ciphertext matches its checksum, and the version belongs to the key we asked for. */
      if (res.verifiedPlaintextCrc32c !== true) throw integrityError("encrypt", cryptoKey, "the service did not verify the plaintext checksum");
      if (res.verifiedAdditionalAuthenticatedDataCrc32c !== true) throw integrityError("encrypt", cryptoKey, "the service did not verify the AAD checksum");
      const wrapped = takeBytes(res.ciphertext);
      if (wrapped.length === 0 || int64(res.ciphertextCrc32c) !== sum(wrapped)) throw integrityError("encrypt", cryptoKey, "ciphertext");
      const version = res.name ?? "";
      if (!version.startsWith(`${cryptoKey}/cryptoKeyVersions/`)) {
        throw new SealkitError("E_PROVIDER", `gcp-kms encrypt ${cryptoKey}: the service answered for another key (${version.slice(0, 200) || "none"})`, {
          details: { provider: PROVIDER_ID, op: "encrypt", keyRef: cryptoKey },
        });
      }
      return { wrapped, keyRef: version };
    },

    async unwrap(wrapped, { keyRef, context, signal }) {
      // Decrypt takes the CryptoKey; the ciphertext names its own version, so any enabled
      // version opens it.
      const { cryptoKey } = parseKeyName(keyRef);
      const aad = contextAad(context);
      const [res] = await call(
        "decrypt",
        keyRef,
        signal,
        (c) =>
          c.decrypt(
            {
              name: cryptoKey,
              ciphertext: wrapped,
              additionalAuthenticatedData: aad,
              ciphertextCrc32c: { value: sum(wrapped) },
              additionalAuthenticatedDataCrc32c: { value: sum(aad) },
            },
            callOptions,
          ),
        ([late]) => wipe(takeBytes(late.plaintext)),
      );
      const dataKey = takeBytes(res.plaintext);
      if (int64(res.plaintextCrc32c) !== sum(dataKey)) {
        wipe(dataKey);
        throw integrityError("decrypt", keyRef, "plaintext");
      }
      return dataKey;
    },

    async describeKey(keyRef, signal) {
      const { cryptoKey } = parseKeyName(keyRef);
      // An operator command: the SDK's own retries (idempotent read) are fine here.
      const [key] = await call("getCryptoKey", cryptoKey, signal, (c) => c.getCryptoKey({ name: cryptoKey }, { timeout: timeoutMs }));
      const primary = key.primary ?? undefined;
      const out: { -readonly [K in keyof KeyDescription]: KeyDescription[K] } = {
        name: key.name ?? cryptoKey,
        purpose: enumName(key.purpose, PURPOSES) ?? "UNSPECIFIED",
      };
      if (primary?.name) out.primary = primary.name;
      const state = enumName(primary?.state, STATES);
      if (state) out.primaryState = state;
      const level = enumName(primary?.protectionLevel ?? key.versionTemplate?.protectionLevel, LEVELS);
      if (level) out.protectionLevel = level;
      return out;
    },

    async dispose() {
      const c = ready;
      ready = undefined;
      // An injected client belongs to the caller; only close the one made here.
      if (c && !options.client) await c.then((x) => x.close?.()).catch(() => {});
    },
  };
}

/** The default instance, configured from the environment (used by the lazy registration). */
export function create(): GcpKmsProvider {
  return createProvider();
}
