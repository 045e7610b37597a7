import { type ErrorCode, SealkitError, openFailed } from "@sealkit/envelope";
import { ckr } from "./_library.js";
import { PKCS11_PROVIDER_ID } from "./keyref.js";

/** The token step an error came from: the same CKR means different things in different steps. */
export type Step = "slots" | "open" | "login" | "find" | "attributes" | "encrypt" | "decrypt" | "generate";

export interface Where {
  step: Step;
  module: string;
  token: string;
  keyRef?: string;
}

/*
 * CKRs after which the session (or the login, or the object handle) is gone: the provider
 * drops its session, opens a new one and tries once more. A warm process whose HSM
 * connection was reset recovers without the caller seeing anything.
 */
const SESSION_LOST = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_KEY_HANDLE_INVALID",
  "CKR_CRYPTOKI_NOT_INITIALIZED",
  "CKR_OPERATION_ACTIVE",
]);

const DEVICE = new Set([
  ...SESSION_LOST,
  "CKR_DEVICE_ERROR",
  "CKR_DEVICE_MEMORY",
  "CKR_HOST_MEMORY",
  "CKR_FUNCTION_FAILED",
  "CKR_SESSION_COUNT",
  "CKR_TOKEN_NOT_RECOGNIZED",
  "CKR_GENERAL_ERROR",
]);

/** True when a raw PKCS#11 error means "reopen the session and try again". */
export function isSessionLost(e: unknown): boolean {
  const c = e instanceof SealkitError ? (e.details.pkcs11 as string | undefined) : ckr(e);
  return c !== undefined && SESSION_LOST.has(c);
}

/**
 * Maps a PKCS#11 error to a SealkitError with a code the runtime's retry policy understands
 * and a message that says what to do. The message holds the CKR name, the token and key
 * labels and the module path, never a PIN or key bytes. See docs/providers/pkcs11.md.
 */
export function mapPkcs11Error(e: unknown, where: Where): SealkitError {
  if (e instanceof SealkitError) return e;
  const c = ckr(e);
  const details = {
    provider: PKCS11_PROVIDER_ID,
    token: where.token,
    module: where.module,
    step: where.step,
    ...(where.keyRef ? { keyRef: where.keyRef } : {}),
    ...(c ? { pkcs11: c } : {}),
  };
  const err = (code: ErrorCode, message: string) => new SealkitError(code, message, { cause: e, details });
  const tok = `token "${where.token}"`;
  const key = where.keyRef ? ` for ${where.keyRef}` : "";
  if (!c) return err("E_PROVIDER", `PKCS#11 ${where.step} failed on ${tok}: ${String((e as Error)?.message ?? e).slice(0, 200)}`);

  // Authenticated decryption failed: a tampered or truncated wrapped key, a wrong context, or
  // a key other than the one that wrapped it. SoftHSM2 reports a GCM tag mismatch as
  // CKR_GENERAL_ERROR from C_Decrypt (the spec says CKR_ENCRYPTED_DATA_INVALID), so in the
  // decrypt step that code is an authentication failure too, never retried.
  if (
    where.step === "decrypt" &&
    (c === "CKR_ENCRYPTED_DATA_INVALID" || c === "CKR_ENCRYPTED_DATA_LEN_RANGE" || c === "CKR_GENERAL_ERROR")
  ) {
    return openFailed(details);
  }
  switch (c) {
    case "CKR_PIN_INCORRECT":
      return err(
        "E_ACCESS_DENIED",
        `${tok} rejected the PIN (CKR_PIN_INCORRECT): check SEALKIT_PKCS11_PIN or SEALKIT_PKCS11_PIN_FILE. Sealkit never retries a login, because repeated wrong PINs lock the token`,
      );
    case "CKR_PIN_LOCKED":
      return err("E_ACCESS_DENIED", `the user PIN of ${tok} is locked (CKR_PIN_LOCKED): the token's security officer must unlock or reset it`);
    case "CKR_PIN_EXPIRED":
      return err("E_ACCESS_DENIED", `the user PIN of ${tok} has expired (CKR_PIN_EXPIRED): set a new PIN on the token, then update SEALKIT_PKCS11_PIN`);
    case "CKR_PIN_INVALID":
    case "CKR_PIN_LEN_RANGE":
      return err("E_CREDENTIALS", `the PIN for ${tok} has characters or a length the token does not accept (${c}): check SEALKIT_PKCS11_PIN(_FILE)`);
    case "CKR_USER_PIN_NOT_INITIALIZED":
      return err("E_CONFIG", `${tok} has no user PIN yet (${c}): initialise it (softhsm2-util --init-token ... --pin, or the HSM's admin tool)`);
    case "CKR_MECHANISM_INVALID":
    case "CKR_MECHANISM_PARAM_INVALID":
      return err(
        "E_CONFIG",
        `mechanism not supported by this token: ${tok} refused CKM_AES_GCM (96-bit IV, 128-bit tag) through C_Encrypt/C_Decrypt${key} (${c}). Check that the HSM offers AES-GCM and that the key's CKA_ALLOWED_MECHANISMS includes it (see docs/providers/pkcs11.md)`,
      );
    case "CKR_KEY_FUNCTION_NOT_PERMITTED":
      return err(
        "E_KEY_DISABLED",
        `the master key${key} in ${tok} may not ${where.step === "encrypt" ? "encrypt (CKA_ENCRYPT is false)" : "decrypt (CKA_DECRYPT is false)"}: it has been disabled for this use, or was not created by \`sealkit hsm create-key\``,
      );
    case "CKR_KEY_TYPE_INCONSISTENT":
    case "CKR_KEY_SIZE_RANGE":
      return err("E_CONFIG", `the object${key} in ${tok} is not an AES-256 key (${c}): use a key made by \`sealkit hsm create-key\``);
    case "CKR_ENCRYPTED_DATA_INVALID":
    case "CKR_ENCRYPTED_DATA_LEN_RANGE":
      return openFailed(details);
  }
  if (DEVICE.has(c)) {
    return err(
      "E_UNAVAILABLE",
      `the HSM behind ${tok} is unavailable (${c} in ${where.step}): check that the device or its client daemon is up and reachable; the call is retried`,
    );
  }
  return err("E_PROVIDER", `PKCS#11 ${where.step} failed on ${tok}${key}: ${c}`);
}
