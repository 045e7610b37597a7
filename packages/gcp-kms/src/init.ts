import { SealkitError, isSealkitError } from "@sealkit/envelope";
import { PROVIDER_ID } from "./_errors.js";
import { parseKeyName } from "./key-name.js";
import type { GcpKmsProviderOptions } from "./types.js";

export interface InitKeysInput {
  keys: string[];
  rawArgs: string[];
}

export interface InitKeysResult {
  masterKeys: { provider: string; keyRef: string }[];
  notes: string[];
}

/**
 * `sealkit init --provider gcp-kms --key projects/…/cryptoKeys/…`: validates each name,
 * checks the key exists, is ENCRYPT_DECRYPT and has an enabled primary version. The store's
 * first wrap (and its verifying unwrap) follows in `initStore`.
 */
export async function initKeys(input: InitKeysInput, options: GcpKmsProviderOptions = {}): Promise<InitKeysResult> {
  if (!input || !Array.isArray(input.keys) || input.keys.length === 0) {
    throw new SealkitError("E_INPUT", "--provider gcp-kms needs --key projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY", {
      details: { provider: PROVIDER_ID },
    });
  }
  const names = input.keys.map(parseKeyName);
  const { createProvider } = await import("./provider.js");
  const provider = createProvider(options);
  const notes: string[] = [];
  try {
    for (const n of names) {
      if (n.version) notes.push(`${n.cryptoKey}: using the key, not version ${n.version}: Cloud KMS encrypts under the primary version`);
      let key: Awaited<ReturnType<typeof provider.describeKey>>;
      try {
        key = await provider.describeKey(n.cryptoKey);
      } catch (e) {
        // cloudkms.cryptoKeys.get is not in the encrypter/decrypter role; the store's first
        // wrap-and-verify still proves the key works, so a missing read right is only a note.
        if (isSealkitError(e, "E_ACCESS_DENIED")) {
          notes.push(`${n.cryptoKey}: could not read the key's settings (needs cloudkms.cryptoKeys.get, e.g. roles/cloudkms.viewer); the test wrap decides`);
          continue;
        }
        throw e;
      }
      if (key.purpose !== "ENCRYPT_DECRYPT") {
        throw new SealkitError(
          "E_CONFIG",
          `gcp-kms: ${n.cryptoKey} has purpose ${key.purpose}; Sealkit needs a symmetric ENCRYPT_DECRYPT key (gcloud kms keys create KEY --purpose=encryption --protection-level=hsm ...)`,
          { details: { provider: PROVIDER_ID, keyRef: n.cryptoKey } },
        );
      }
      if (key.primaryState !== "ENABLED") {
        throw new SealkitError("E_KEY_DISABLED", `gcp-kms: the primary version of ${n.cryptoKey} is ${key.primaryState ?? "missing"}; enable it or set another primary`, {
          details: { provider: PROVIDER_ID, keyRef: n.cryptoKey },
        });
      }
      if (key.protectionLevel && key.protectionLevel !== "HSM" && key.protectionLevel !== "HSM_SINGLE_TENANT") {
        notes.push(`${n.cryptoKey}: protection level ${key.protectionLevel}; Sealkit recommends HSM (the data key's root then never leaves a FIPS 140-2 Level 3 HSM)`);
      }
    }
  } finally {
    await provider.dispose?.();
  }
  notes.push(
    "sealing needs roles/cloudkms.cryptoKeyEncrypterDecrypter on the key; a function needs only roles/cloudkms.cryptoKeyDecrypter (`sealkit policy` prints the binding)",
  );
  return { masterKeys: names.map((n) => ({ provider: PROVIDER_ID, keyRef: n.cryptoKey })), notes };
}
