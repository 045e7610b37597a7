/**
 * `@sealkit/pkcs11`: master keys in a PKCS#11 HSM (AWS CloudHSM, Thales Luna, nShield,
 * SoftHSM2, ...). Importing this module registers the `pkcs11` provider; the native
 * binding (pkcs11js) and the module (.so) load on the first wrap or unwrap, not here.
 */
import { registerProvider } from "@sealkit/envelope";
import type { CreateMasterKeyOptions, CreatedMasterKey } from "./admin.js";
import { pkcs11Provider } from "./lazy.js";

export { ENV, WELL_KNOWN_MODULES } from "./config.js";
export { type InitKeysResult, initKeys } from "./init.js";
export { pkcs11Provider } from "./lazy.js";
export { PKCS11_PROVIDER_ID, type Pkcs11KeyRef, formatKeyRef, isKeyRef, parseKeyRef } from "./keyref.js";
export type { Pkcs11Api, PinSource, Pkcs11ProviderOptions } from "./options.js";
export type { CreateMasterKeyOptions, CreatedMasterKey } from "./admin.js";
export type { Pkcs11Provider } from "./provider.js";

/** `sealkit hsm create-key`: generates a non-extractable AES-256 master key in the token. */
export async function createMasterKey(options: CreateMasterKeyOptions): Promise<CreatedMasterKey> {
  return (await import("./admin.js")).createMasterKey(options);
}

registerProvider(pkcs11Provider());
