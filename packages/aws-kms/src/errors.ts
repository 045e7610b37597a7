import { type ErrorCode, OPEN_FAILED, SealkitError, isSealkitError } from "@sealkit/envelope";

/**
 * AWS KMS exception names (API Reference, "Errors" of Encrypt/Decrypt/ReEncrypt/DescribeKey
 * and "Common Errors") to Sealkit codes. The runtime retries E_THROTTLED, E_TIMEOUT and
 * E_UNAVAILABLE and nothing else.
 */
const BY_NAME: Readonly<Record<string, ErrorCode>> = {
  ThrottlingException: "E_THROTTLED",
  LimitExceededException: "E_THROTTLED",
  RequestLimitExceeded: "E_THROTTLED",
  AccessDeniedException: "E_ACCESS_DENIED",
  DisabledException: "E_KEY_DISABLED",
  KMSInvalidStateException: "E_KEY_DISABLED",
  InvalidCiphertextException: "E_AUTH",
  IncorrectKeyException: "E_AUTH",
  NotFoundException: "E_NOT_FOUND",
  KMSInternalException: "E_UNAVAILABLE",
  KeyUnavailableException: "E_UNAVAILABLE",
  ServiceUnavailableException: "E_UNAVAILABLE",
  InternalFailure: "E_UNAVAILABLE",
  DependencyTimeoutException: "E_TIMEOUT",
  TimeoutError: "E_TIMEOUT",
  AbortError: "E_TIMEOUT",
  RequestTimeout: "E_TIMEOUT",
  RequestTimeoutException: "E_TIMEOUT",
  CredentialsProviderError: "E_CREDENTIALS",
  UnrecognizedClientException: "E_CREDENTIALS",
  InvalidSignatureException: "E_CREDENTIALS",
  ExpiredTokenException: "E_CREDENTIALS",
  MissingAuthenticationTokenException: "E_CREDENTIALS",
  InvalidKeyUsageException: "E_CONFIG",
  InvalidArnException: "E_CONFIG",
  ValidationException: "E_CONFIG",
  InvalidGrantTokenException: "E_CONFIG",
};

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET"]);

/** Where the SDK's default chain looked for credentials, for the E_CREDENTIALS message. */
export function credentialSources(
  env: Record<string, string | undefined> = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {},
): string {
  const profile = env.AWS_PROFILE || "default";
  const creds = env.AWS_SHARED_CREDENTIALS_FILE || "~/.aws/credentials";
  const config = env.AWS_CONFIG_FILE || "~/.aws/config";
  return [
    "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)",
    `profile "${profile}" (AWS_PROFILE) in ${creds} and ${config}, with SSO and credential_process`,
    "web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)",
    "the container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / AWS_CONTAINER_CREDENTIALS_FULL_URI)",
    env.AWS_EC2_METADATA_DISABLED === "true" ? "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)" : "EC2 instance metadata",
  ].join("; ");
}

interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** The Sealkit code of an error from the SDK (or from the light client, which mimics it). */
export function codeOf(e: unknown): ErrorCode {
  const err = (e ?? {}) as AwsLikeError;
  const name = err.name ?? "";
  // The SDK names a reset socket "TimeoutError" with code ECONNRESET: the code decides.
  const code = err.code ?? (err.cause as AwsLikeError | undefined)?.code;
  if (code && NETWORK_CODES.has(code)) return "E_UNAVAILABLE";
  const byName = BY_NAME[name];
  if (byName) return byName;
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") return "E_TIMEOUT";
  const status = err.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || err.$fault === "server") return "E_UNAVAILABLE";
  if (status === 429) return "E_THROTTLED";
  if (status === 401 || status === 403) return "E_ACCESS_DENIED";
  return "E_PROVIDER";
}

/**
 * Turns any failure of a KMS call into a `SealkitError`. Messages carry the operation, the
 * key ARN and the service's own message (which names keys, never key bytes); a failed
 * Decrypt is reported with the one `OPEN_FAILED` message, as every failed open is.
 */
export function toSealkitError(e: unknown, op: string, keyRef: string): SealkitError {
  if (isSealkitError(e)) return e;
  const err = (e ?? {}) as AwsLikeError;
  const code = codeOf(e);
  const awsError = err.name ?? err.code ?? "Error";
  const details = { provider: "aws-kms", op, keyRef, awsError, ...(err.$metadata?.httpStatusCode ? { status: err.$metadata.httpStatusCode } : {}) };
  if (code === "E_AUTH") return new SealkitError("E_AUTH", OPEN_FAILED, { cause: e, details });
  if (code === "E_CREDENTIALS") {
    const missing = awsError === "CredentialsProviderError";
    return new SealkitError(
      "E_CREDENTIALS",
      missing
        ? `aws-kms ${op}: no AWS credentials found; looked for ${credentialSources()}`
        : `aws-kms ${op} for ${keyRef}: the AWS credentials were rejected (${awsError}): check AWS_ACCESS_KEY_ID / AWS_PROFILE and the clock`,
      { cause: e, details },
    );
  }
  const message = String(err.message ?? "").slice(0, 300);
  const hint =
    code === "E_ACCESS_DENIED"
      ? " (run `sealkit policy` for the statement this identity needs)"
      : code === "E_KEY_DISABLED"
        ? " (enable the key, or `sealkit rekey` to another master key)"
        : "";
  return new SealkitError(code, `aws-kms ${op} failed for ${keyRef}: ${awsError}${message ? `: ${message}` : ""}${hint}`, {
    cause: e,
    details,
  });
}
