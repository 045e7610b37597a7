import type { LazyProvider } from "@sealkit/envelope";
import { PKCS11_PROVIDER_ID } from "./keyref.js";
import type { Pkcs11ProviderOptions } from "./options.js";

/**
 * The provider, configured (module, PIN source, an instrumented API for tests), as a lazy
 * registration: `registerProvider(pkcs11Provider({ module }))`. The native binding loads on
 * the first wrap or unwrap.
 */
export function pkcs11Provider(options: Pkcs11ProviderOptions = {}): LazyProvider {
  return { id: PKCS11_PROVIDER_ID, load: () => import("./provider.js").then((m) => m.create(options)) };
}
