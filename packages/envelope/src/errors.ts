/**
 * The one error type of Sealkit. Every package throws `SealkitError` with a stable `code`;
 * the CLI maps codes to exit codes, the runtime maps them to retry decisions.
 *
 * Messages never contain key material or plaintext. A failed open always carries the same
 * message (see `OPEN_FAILED`), whatever the cause, so an attacker learns nothing from it.
 */

export const ERROR_CODES = {
  /** Malformed envelope, store file, record or option; unknown format version. */
  E_FORMAT: "E_FORMAT",
  /** Authentication failed: a tampered envelope, a wrong data key, a moved envelope. */
  E_AUTH: "E_AUTH",
  /** A key provider failed in a way that is not classified more precisely. */
  E_PROVIDER: "E_PROVIDER",
  /** Configuration is missing or wrong (missing key, unknown provider, bad option). */
  E_CONFIG: "E_CONFIG",
  /** A secret, store, key or file that was asked for does not exist. */
  E_NOT_FOUND: "E_NOT_FOUND",
  /** Bad input from the user (name, value source, argument). */
  E_INPUT: "E_INPUT",
  /** The store is locked by another writer. */
  E_LOCKED: "E_LOCKED",
  /** A file-system operation failed. */
  E_IO: "E_IO",
  /** The key service refused: the caller lacks permission. Never retried. */
  E_ACCESS_DENIED: "E_ACCESS_DENIED",
  /** The master key is disabled or pending deletion. Never retried. */
  E_KEY_DISABLED: "E_KEY_DISABLED",
  /** The key service throttled the request. Retried. */
  E_THROTTLED: "E_THROTTLED",
  /** The key service did not answer in time. Retried. */
  E_TIMEOUT: "E_TIMEOUT",
  /** The key service is unavailable (5xx, connection reset). Retried. */
  E_UNAVAILABLE: "E_UNAVAILABLE",
  /** An envelope names a master key the build did not pin. */
  E_KEY_PINNING: "E_KEY_PINNING",
  /** Credentials for the key service could not be found. */
  E_CREDENTIALS: "E_CREDENTIALS",
  /** A build-time problem found by the plugin (unknown name, non-literal argument...). */
  E_BUILD: "E_BUILD",
  /** Plaintext was found where it must not be (scan). */
  E_LEAK: "E_LEAK",
  /** Something is older than the allowed age (status --max-age). */
  E_STALE: "E_STALE",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes that describe a transient condition worth retrying. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(["E_THROTTLED", "E_TIMEOUT", "E_UNAVAILABLE"]);

export interface SealkitErrorOptions {
  /** The underlying error. Only ever set to errors that carry no secret material. */
  cause?: unknown;
  /** Machine-readable facts (file, field, name, provider, keyRef). Never values or keys. */
  details?: Record<string, unknown>;
  /** Overrides the default retry classification of the code. */
  retryable?: boolean;
}

// A realm-wide brand: a bundle may hold its own copy of this module while a provider
// package kept external (node_modules) loads another; both copies' errors must be recognised.
const BRAND = Symbol.for("sealkit.error");

export class SealkitError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: SealkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SealkitError";
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    Object.defineProperty(this, BRAND, { value: true });
  }

  toJSON(): { name: string; code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: { ...this.details } };
  }
}

/** The single message of every failed open. Deliberately says nothing about the cause. */
export const OPEN_FAILED = "sealkit: could not open the envelope (wrong key, wrong store or name, or tampered data)";

export function isSealkitError(e: unknown, code?: ErrorCode): e is SealkitError {
  const branded = e instanceof SealkitError || (typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true);
  return branded && (code === undefined || (e as SealkitError).code === code);
}

/** The typed error of every failed authenticated decryption. */
export function openFailed(details?: Record<string, unknown>): SealkitError {
  return new SealkitError("E_AUTH", OPEN_FAILED, details ? { details } : {});
}
