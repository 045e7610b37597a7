import type { Pkcs11Api } from "./_library.js";
import type { PinSource } from "./config.js";

export type { Pkcs11Api } from "./_library.js";
export type { PinSource } from "./config.js";

export interface Pkcs11ProviderOptions {
  /** Path of the PKCS#11 module (.so). Default: SEALKIT_PKCS11_MODULE, else the one well-known path installed. */
  module?: string;
  /** The user PIN. Default: SEALKIT_PKCS11_PIN, else the file named by SEALKIT_PKCS11_PIN_FILE. */
  pin?: PinSource;
  /** Wraps the module's API (tests count token operations with it). */
  instrument?: (api: Pkcs11Api) => Pkcs11Api;
}
