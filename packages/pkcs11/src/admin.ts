/**
 * Operator tasks on a token (`sealkit hsm ...`). Loaded lazily by the package index.
 */
import { randomBytes } from "node:crypto";
import { SealkitError } from "@sealkit/envelope";
import { mapPkcs11Error } from "./_errors.js";
import { P, acquireLibrary, ckr } from "./_library.js";
import { TokenSession } from "./_session.js";
import { resolveModule } from "./config.js";
import { PKCS11_PROVIDER_ID, formatKeyRef } from "./keyref.js";
import type { PinSource } from "./options.js";

export interface CreateMasterKeyOptions {
  module?: string;
  token: string;
  label: string;
  pin?: PinSource;
}

export interface CreatedMasterKey {
  keyRef: string;
  module: string;
  /** Whether the token accepted CKA_ALLOWED_MECHANISMS = [CKM_AES_GCM]. */
  restrictedToGcm: boolean;
}

/**
 * Generates the master key inside the token: AES-256, a token object, private, sensitive and
 * never extractable, allowed to encrypt and decrypt (nothing else), and, where the token
 * supports CKA_ALLOWED_MECHANISMS (PKCS#11 v2.40 §4.9), usable with CKM_AES_GCM only, so the
 * key cannot serve as an ECB oracle. CKA_MODIFIABLE is false. Refuses an existing label.
 */
export async function createMasterKey(opts: CreateMasterKeyOptions): Promise<CreatedMasterKey> {
  const keyRef = formatKeyRef({ token: opts.token, object: opts.label });
  const lease = acquireLibrary(resolveModule(opts.module));
  const s = new TokenSession(lease.api, lease.module, opts.token, opts.pin, true);
  try {
    const { session } = await s.open();
    const existing = s.findObjects(session, [{ type: P.CKA_LABEL, value: opts.label }]);
    if (existing.length > 0) {
      throw new SealkitError(
        "E_CONFIG",
        `token "${opts.token}" already holds an object labelled "${opts.label}": pick another --label (Sealkit never replaces a master key)`,
        { details: { provider: PKCS11_PROVIDER_ID, keyRef } },
      );
    }
    const template: { type: number; value: number | boolean | string | Buffer }[] = [
      { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
      { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
      { type: P.CKA_VALUE_LEN, value: 32 },
      { type: P.CKA_LABEL, value: opts.label },
      { type: P.CKA_ID, value: randomBytes(16) },
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_PRIVATE, value: true },
      { type: P.CKA_SENSITIVE, value: true },
      { type: P.CKA_EXTRACTABLE, value: false },
      { type: P.CKA_ENCRYPT, value: true },
      { type: P.CKA_DECRYPT, value: true },
      { type: P.CKA_WRAP, value: false },
      { type: P.CKA_UNWRAP, value: false },
      { type: P.CKA_SIGN, value: false },
      { type: P.CKA_VERIFY, value: false },
      { type: P.CKA_DERIVE, value: false },
      { type: P.CKA_MODIFIABLE, value: false },
    ];
    const gen = (t: typeof template) => lease.api.C_GenerateKey(session, { mechanism: P.CKM_AES_KEY_GEN }, t as never);
    let restrictedToGcm = true;
    try {
      gen([...template, { type: P.CKA_ALLOWED_MECHANISMS, value: ulongArray([P.CKM_AES_GCM]) }]);
    } catch (e) {
      // Tokens older than v2.40 do not know the attribute: the key is still non-extractable.
      if (ckr(e) !== "CKR_ATTRIBUTE_TYPE_INVALID" && ckr(e) !== "CKR_TEMPLATE_INCONSISTENT") {
        throw mapPkcs11Error(e, { step: "generate", module: lease.module, token: opts.token, keyRef });
      }
      restrictedToGcm = false;
      try {
        gen(template);
      } catch (e2) {
        throw mapPkcs11Error(e2, { step: "generate", module: lease.module, token: opts.token, keyRef });
      }
    }
    return { keyRef, module: lease.module, restrictedToGcm };
  } finally {
    await s.close();
    lease.release();
  }
}

/** A CK_ULONG array as the token expects it: native byte order, 8 bytes (4 on Windows, LLP64). */
function ulongArray(values: number[]): Buffer {
  const size = process.platform === "win32" ? 4 : 8;
  const b = Buffer.alloc(values.length * size);
  for (const [i, v] of values.entries()) {
    if (size === 8) b.writeBigUInt64LE(BigInt(v), i * 8);
    else b.writeUInt32LE(v, i * 4);
  }
  return b;
}
