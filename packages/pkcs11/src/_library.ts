/*
 * Loading PKCS#11 modules through pkcs11js. Only provider.ts and admin.ts import this, and
 * the package index imports those lazily, so importing @sealkit/pkcs11 never loads the
 * native binding.
 */
import { createRequire } from "node:module";
import { SealkitError } from "@sealkit/envelope";
import type * as Pkcs11Js from "pkcs11js";
import { PKCS11_PROVIDER_ID } from "./keyref.js";

/** pkcs11js is CommonJS; its constants (CKA_*, CKM_*, CKR_*) live on the module object. */
export const P: typeof Pkcs11Js = createRequire(import.meta.url)("pkcs11js");

export type Handle = Buffer;

/** The part of pkcs11js's PKCS11 class Sealkit calls. Structural, so tests can wrap it. */
export type Pkcs11Api = Pick<
  Pkcs11Js.PKCS11,
  | "C_GetSlotList"
  | "C_GetTokenInfo"
  | "C_OpenSession"
  | "C_CloseSession"
  | "C_Login"
  | "C_FindObjectsInit"
  | "C_FindObjects"
  | "C_FindObjectsFinal"
  | "C_GetAttributeValue"
  | "C_EncryptInit"
  | "C_EncryptAsync"
  | "C_DecryptInit"
  | "C_DecryptAsync"
  | "C_GenerateKey"
  | "C_WrapKey"
>;

interface LibraryEntry {
  lib: Pkcs11Js.PKCS11;
  refs: number;
  /** False when someone else in this process had initialised the module already. */
  ownsInit: boolean;
}

/*
 * One loaded module per path per process: C_Initialize is process-wide in PKCS#11, so two
 * providers on the same module share it, and the last release finalises it.
 */
const loaded = new Map<string, LibraryEntry>();

export interface LibraryLease {
  readonly api: Pkcs11Api;
  readonly module: string;
  release(): void;
}

export function acquireLibrary(module: string): LibraryLease {
  let entry = loaded.get(module);
  if (!entry) {
    const lib = new P.PKCS11();
    try {
      lib.load(module);
    } catch (e) {
      throw new SealkitError(
        "E_CONFIG",
        `cannot load the PKCS#11 module ${module}: ${firstLine(e)}; check the path (${"SEALKIT_PKCS11_MODULE"}) and that the HSM client is installed for this OS and architecture`,
        { details: { provider: PKCS11_PROVIDER_ID, module } },
      );
    }
    let ownsInit = true;
    try {
      // CKF_OS_LOCKING_OK: pkcs11js runs the *Async calls on libuv worker threads.
      lib.C_Initialize({ flags: P.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (ckr(e) === "CKR_CRYPTOKI_ALREADY_INITIALIZED") ownsInit = false;
      else {
        try {
          lib.close();
        } catch {
          // nothing more to release
        }
        throw new SealkitError(
          "E_CONFIG",
          `the PKCS#11 module ${module} failed to initialise (${ckr(e) ?? firstLine(e)}): check its configuration (for SoftHSM2, SOFTHSM2_CONF and its directories.tokendir; for CloudHSM, the client configuration)`,
          { details: { provider: PKCS11_PROVIDER_ID, module, pkcs11: ckr(e) } },
        );
      }
    }
    entry = { lib, refs: 0, ownsInit };
    loaded.set(module, entry);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    api: held.lib,
    module,
    release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      loaded.delete(module);
      try {
        if (held.ownsInit) held.lib.C_Finalize();
      } catch {
        // finalising a module that lost its device: nothing to do
      }
      try {
        held.lib.close();
      } catch {
        // already closed
      }
    },
  };
}

/** The CKR_* name of a PKCS#11 error (pkcs11js puts it in the message), or undefined. */
export function ckr(e: unknown): string | undefined {
  const m = /\b(CKR_[A-Z0-9_]+)(?::(\d+))?/.exec(String((e as Error)?.message ?? ""));
  if (!m) return undefined;
  // pkcs11js names v3.0 codes it does not know CKR_VENDOR_DEFINED; name the ones we meet.
  if (m[1] === "CKR_VENDOR_DEFINED" && m[2] !== undefined) return UNNAMED[Number(m[2])] ?? m[1];
  return m[1];
}

/** CKR_ACTION_PROHIBITED is 0x1B (PKCS#11 v2.40). */
const UNNAMED: Record<number, string> = { 27: "CKR_ACTION_PROHIBITED" };

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split("\n")[0]
    ?.slice(0, 300) as string;
}
