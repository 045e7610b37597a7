import type { ErrorCode } from "@sealkit/envelope";

/**
 * The one table from error codes to process exit codes. Documented in docs/errors.md;
 * scripts may rely on these numbers.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode | "E_USAGE" | "E_UNEXPECTED", number>> = {
  E_UNEXPECTED: 1,
  E_USAGE: 2,
  E_INPUT: 2,
  E_CONFIG: 3,
  E_CREDENTIALS: 3,
  E_NOT_FOUND: 4,
  E_AUTH: 5,
  E_KEY_PINNING: 5,
  E_FORMAT: 6,
  E_LOCKED: 7,
  E_IO: 8,
  E_ACCESS_DENIED: 9,
  E_KEY_DISABLED: 9,
  E_PROVIDER: 10,
  E_THROTTLED: 10,
  E_TIMEOUT: 10,
  E_UNAVAILABLE: 10,
  E_LEAK: 11,
  E_STALE: 12,
  E_BUILD: 13,
};
