import { type ErrorCode, SealkitError, isSealkitError } from "@sealkit/envelope";

export const PROVIDER_ID = "gcp-kms";

// google.rpc.Code numbers (the `code` of a GoogleError) and names (the `status` of a REST
// error body, https://cloud.google.com/apis/design/errors).
const RPC_NAMES: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

// When a REST error body carries no status name, the HTTP status decides (same table as gax).
const HTTP_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export const CREDENTIALS_HINT =
  "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run `gcloud auth application-default login` (gcloud ADC), or run where the metadata server supplies the service account (Cloud Run, Cloud Functions, GCE)";

interface Classified {
  /** The google.rpc.Code name, or "NETWORK" for a transport failure, or undefined. */
  status?: string;
  /** The service's own message (resource names and reasons; Cloud KMS never echoes data). */
  text: string;
}

function classify(e: unknown): Classified {
  const err = (e ?? {}) as { code?: unknown; status?: unknown; message?: unknown; response?: { status?: unknown } };
  const message = typeof err.message === "string" ? err.message : String(e);
  // A REST error arrives either as a GoogleError (numeric rpc code) or, through the auth
  // client's fetch, as a GaxiosError whose message is the JSON error body.
  let body: { error?: { status?: unknown; message?: unknown; code?: unknown } } | undefined;
  if (message.startsWith("{")) {
    try {
      body = JSON.parse(message);
    } catch {
      body = undefined;
    }
  }
  const text = typeof body?.error?.message === "string" ? body.error.message : message;
  if (typeof body?.error?.status === "string" && body.error.status) return { status: body.error.status, text };
  if (typeof err.code === "string" && NETWORK_CODES.has(err.code)) return { status: "NETWORK", text };
  const httpStatus =
    typeof err.response?.status === "number" ? err.response.status : typeof err.status === "number" ? err.status : undefined;
  if (httpStatus !== undefined) {
    return { status: HTTP_NAMES[httpStatus] ?? (httpStatus >= 500 ? "UNAVAILABLE" : "UNKNOWN"), text };
  }
  if (typeof err.code === "number" && RPC_NAMES[err.code]) return { status: RPC_NAMES[err.code], text };
  if (/fetch failed|socket hang up|network/i.test(message)) return { status: "NETWORK", text };
  return { text };
}

/**
 * Turns anything the SDK (or its auth library) throws into a SealkitError whose code the
 * runtime's retry policy understands. Messages carry the operation, the key name and the
 * service's reason; Cloud KMS never echoes plaintext or ciphertext in errors.
 */
export function toSealkitError(e: unknown, op: string, keyRef: string): SealkitError {
  if (isSealkitError(e)) return e;
  const where = `gcp-kms ${op} ${keyRef}`;
  const details = { provider: PROVIDER_ID, op, keyRef };
  const { status, text } = classify(e);
  const reason = text.slice(0, 300);
  const make = (code: ErrorCode, msg: string, retryable?: boolean) =>
    new SealkitError(code, msg, { cause: e, details: { ...details, ...(status ? { status } : {}) }, ...(retryable === undefined ? {} : { retryable }) });

  if (/Could not load the default credentials|The file at .* does not exist|Unable to parse the credentials|invalid_grant|No authentication was provided|No access, refresh token, API key or refresh handler/i.test(text)) {
    return make("E_CREDENTIALS", `${where}: no Google credentials: ${CREDENTIALS_HINT}`);
  }
  const name = (e as { name?: string })?.name;
  if (name === "AbortError" || name === "TimeoutError") return make("E_TIMEOUT", `${where}: no answer in time`);
  switch (status) {
    case "RESOURCE_EXHAUSTED":
      return make("E_THROTTLED", `${where}: throttled by Cloud KMS (quota): ${reason}`);
    case "PERMISSION_DENIED":
      return make(
        "E_ACCESS_DENIED",
        `${where}: permission denied: ${reason} (the caller needs ${op === "encrypt" ? "roles/cloudkms.cryptoKeyEncrypterDecrypter" : op === "decrypt" ? "roles/cloudkms.cryptoKeyDecrypter" : "roles/cloudkms.viewer"} on this key; see \`sealkit policy\`)`,
      );
    case "UNAUTHENTICATED":
      return make("E_CREDENTIALS", `${where}: the credentials were rejected: ${reason}; ${CREDENTIALS_HINT}`);
    case "FAILED_PRECONDITION":
      return /not enabled|DISABLED|DESTROYED|DESTROY_SCHEDULED|state/i.test(text)
        ? make("E_KEY_DISABLED", `${where}: the key version is not enabled: ${reason}`)
        : make("E_CONFIG", `${where}: ${reason}`);
    case "INVALID_ARGUMENT":
      // A checksum the service found wrong means the request was damaged on the way:
      // transient, retried like any other corruption (docs/providers/gcp-kms.md).
      if (/crc32c|checksum/i.test(text)) return make("E_UNAVAILABLE", `${where}: Cloud KMS reported a CRC32C mismatch in the request: ${reason}`);
      return op === "decrypt"
        ? make("E_AUTH", `${where}: Cloud KMS could not decrypt the wrapped data key (wrong key, wrong store context, or damaged data)`)
        : make("E_CONFIG", `${where}: ${reason}`);
    case "NOT_FOUND":
      return make("E_NOT_FOUND", `${where}: key not found: ${reason}`);
    case "DEADLINE_EXCEEDED":
    case "CANCELLED":
      return make("E_TIMEOUT", `${where}: no answer in time: ${reason}`);
    case "UNAVAILABLE":
    case "INTERNAL":
    case "UNKNOWN":
    case "ABORTED":
    case "NETWORK":
      return make("E_UNAVAILABLE", `${where}: Cloud KMS unavailable: ${reason}`);
    default:
      if (e instanceof SyntaxError) return make("E_UNAVAILABLE", `${where}: unreadable answer from Cloud KMS`);
      return make("E_PROVIDER", `${where} failed: ${reason}`);
  }
}

/** A response that failed its CRC32C check: discarded and retried, as Google advises. */
export function integrityError(op: string, keyRef: string, what: string): SealkitError {
  return new SealkitError("E_UNAVAILABLE", `gcp-kms ${op} ${keyRef}: CRC32C integrity check failed (${what}); the response was discarded`, {
    details: { provider: PROVIDER_ID, op, keyRef, integrity: "crc32c" },
  });
}
