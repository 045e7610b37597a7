import { existsSync, realpathSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { isAbsolute } from "node:path";
import { SealkitError } from "@sealkit/envelope";
import { PKCS11_PROVIDER_ID } from "./keyref.js";

/** Environment variables the provider reads. Documented in docs/providers/pkcs11.md. */
export const ENV = {
  module: "SEALKIT_PKCS11_MODULE",
  pin: "SEALKIT_PKCS11_PIN",
  pinFile: "SEALKIT_PKCS11_PIN_FILE",
} as const;

/**
 * Modules tried when neither the options nor SEALKIT_PKCS11_MODULE name one; used only when
 * exactly one of them exists, so two installed HSM clients never pick each other silently.
 */
export const WELL_KNOWN_MODULES = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so",
  "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so",
  "/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so",
  "/usr/lib/pkcs11/yubihsm_pkcs11.so",
];

/** A PIN, or where to get one. Functions let tests and callers fetch it from elsewhere. */
export type PinSource = string | (() => string | Promise<string>);

/** The PKCS#11 module to load: option, then SEALKIT_PKCS11_MODULE, then one well-known path. */
export function resolveModule(option?: string): string {
  const given = option || process.env[ENV.module];
  if (given) {
    if (!isAbsolute(given)) {
      throw new SealkitError("E_CONFIG", `PKCS#11 module path "${given}" must be absolute (set ${ENV.module} to the full path of the .so)`, {
        details: { provider: PKCS11_PROVIDER_ID, module: given },
      });
    }
    if (!existsSync(given)) {
      throw new SealkitError(
        "E_CONFIG",
        `PKCS#11 module ${given} does not exist: install the HSM's client library, or point ${ENV.module} at it`,
        { details: { provider: PKCS11_PROVIDER_ID, module: given } },
      );
    }
    return given;
  }
  // Distros link one module under several names: count each real file once.
  const found = [...new Map(WELL_KNOWN_MODULES.filter((p) => existsSync(p)).map((p) => [realpathSync(p), p])).values()];
  if (found.length === 1) return found[0] as string;
  throw new SealkitError(
    "E_CONFIG",
    found.length === 0
      ? `no PKCS#11 module configured: set ${ENV.module} to the HSM's client library (e.g. /usr/lib/softhsm/libsofthsm2.so) or pass --module`
      : `several PKCS#11 modules are installed (${found.join(", ")}): set ${ENV.module} to the one to use, or pass --module`,
    { details: { provider: PKCS11_PROVIDER_ID } },
  );
}

/**
 * The user PIN: the option, then SEALKIT_PKCS11_PIN, then the file named by
 * SEALKIT_PKCS11_PIN_FILE (owner-readable only, like an SSH key; one trailing newline is
 * dropped). Never from argv. The PIN is never put into an error, a log or an event.
 */
export async function resolvePin(option?: PinSource): Promise<string> {
  if (option !== undefined) return typeof option === "function" ? await option() : option;
  const env = process.env[ENV.pin];
  if (env) return env;
  const file = process.env[ENV.pinFile];
  if (file) return readPinFile(file);
  throw new SealkitError(
    "E_CREDENTIALS",
    `no PIN for the PKCS#11 token: set ${ENV.pin}, or ${ENV.pinFile} to a file (mode 0600) holding it. For AWS CloudHSM the PIN is <crypto user>:<password>`,
    { details: { provider: PKCS11_PROVIDER_ID } },
  );
}

async function readPinFile(file: string): Promise<string> {
  try {
    const st = await stat(file);
    if (process.platform !== "win32" && (st.mode & 0o077) !== 0) {
      throw new SealkitError(
        "E_CONFIG",
        `PIN file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}): run \`chmod 600 ${file}\``,
        { details: { provider: PKCS11_PROVIDER_ID, file } },
      );
    }
    const text = await readFile(file, "utf8");
    const pin = text.replace(/\r?\n$/, "");
    if (!pin) throw new SealkitError("E_CREDENTIALS", `PIN file ${file} is empty`, { details: { provider: PKCS11_PROVIDER_ID, file } });
    return pin;
  } catch (e) {
    if (e instanceof SealkitError) throw e;
    throw new SealkitError(
      "E_CREDENTIALS",
      `cannot read the PIN file ${file} (${ENV.pinFile}): ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      { details: { provider: PKCS11_PROVIDER_ID, file } },
    );
  }
}
