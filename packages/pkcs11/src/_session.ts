import { SealkitError, isSealkitError } from "@sealkit/envelope";
import { type Step, type Where, mapPkcs11Error } from "./_errors.js";
import { type Handle, P, type Pkcs11Api, ckr } from "./_library.js";
import { type PinSource, resolvePin } from "./config.js";
import { PKCS11_PROVIDER_ID } from "./keyref.js";

/** What the provider knows about a master key after finding it. */
export interface KeyInfo {
  readonly handle: Handle;
  readonly label: string;
  readonly sensitive: boolean;
  readonly extractable: boolean;
  readonly canEncrypt: boolean;
  readonly canDecrypt: boolean;
}

interface Open {
  slot: Handle;
  session: Handle;
}

/**
 * One logged-in session on one token, found by label. Opening and login are single-flight:
 * concurrent first calls share one C_OpenSession and one C_Login. Token operations are
 * serialised (a PKCS#11 session runs one operation at a time), so two callers never
 * interleave an Init with another caller's Encrypt/Decrypt.
 */
export class TokenSession {
  private opening: Promise<Open> | undefined;
  private rejected: SealkitError | undefined;
  private readonly keys = new Map<string, Promise<KeyInfo>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: Pkcs11Api,
    readonly module: string,
    readonly token: string,
    private readonly pin: PinSource | undefined,
    private readonly rw = false,
  ) {}

  private where(step: Step, keyRef?: string): Where {
    return { step, module: this.module, token: this.token, ...(keyRef ? { keyRef } : {}) };
  }

  /** Runs one step, mapping its PKCS#11 error; keeps the raw error as `cause` for retry checks. */
  step<T>(step: Step, fn: () => T, keyRef?: string): T {
    try {
      return fn();
    } catch (e) {
      throw mapPkcs11Error(e, this.where(step, keyRef));
    }
  }

  async stepAsync<T>(step: Step, fn: () => Promise<T>, keyRef?: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw mapPkcs11Error(e, this.where(step, keyRef));
    }
  }

  /** The open, logged-in session (single flight). */
  open(): Promise<Open> {
    // A rejected PIN is remembered until dispose: retrying it (per key, per call) would
    // count towards the token's lockout limit.
    if (this.rejected) return Promise.reject(this.rejected);
    if (!this.opening) {
      this.opening = this.doOpen().catch((e) => {
        this.opening = undefined;
        if (isSealkitError(e, "E_ACCESS_DENIED") || isSealkitError(e, "E_CREDENTIALS")) {
          if (e.details.step === "login") this.rejected = e;
        }
        throw e;
      });
    }
    return this.opening;
  }

  private async doOpen(): Promise<Open> {
    const slot = this.findSlot();
    // Resolve the PIN before opening, so a missing PIN leaves no session behind.
    const pin = await resolvePin(this.pin);
    const flags = P.CKF_SERIAL_SESSION | (this.rw ? P.CKF_RW_SESSION : 0);
    const session = this.step("open", () => this.api.C_OpenSession(slot, flags));
    try {
      this.api.C_Login(session, P.CKU_USER, pin);
    } catch (e) {
      // Login state is per application and token: another session may have logged in.
      if (ckr(e) !== "CKR_USER_ALREADY_LOGGED_IN") {
        this.closeQuietly(session);
        throw mapPkcs11Error(e, this.where("login"));
      }
    }
    return { slot, session };
  }

  /** The slot holding the initialised token with this label; exactly one must match. */
  private findSlot(): Handle {
    const slots = this.step("slots", () => this.api.C_GetSlotList(true));
    const seen: string[] = [];
    const matches: Handle[] = [];
    for (const slot of slots) {
      let info: { label: string; flags: number };
      try {
        info = this.api.C_GetTokenInfo(slot);
      } catch {
        continue; // a slot whose token went away between the two calls
      }
      if ((info.flags & P.CKF_TOKEN_INITIALIZED) === 0) continue;
      const label = info.label.replace(/[ \0]+$/, "");
      seen.push(label);
      if (label === this.token) matches.push(slot);
    }
    if (matches.length === 0) {
      throw new SealkitError(
        "E_CONFIG",
        `no token labelled "${this.token}" in PKCS#11 module ${this.module} (tokens present: ${seen.length ? seen.map((s) => `"${s}"`).join(", ") : "none"}): check the token label in the key reference, the HSM client configuration (SOFTHSM2_CONF for SoftHSM2), and that the HSM is connected`,
        { details: { provider: PKCS11_PROVIDER_ID, token: this.token, module: this.module } },
      );
    }
    if (matches.length > 1) {
      throw new SealkitError(
        "E_CONFIG",
        `${matches.length} tokens are labelled "${this.token}" in ${this.module}: token labels must be unique for Sealkit to find the right one; relabel one of them`,
        { details: { provider: PKCS11_PROVIDER_ID, token: this.token, module: this.module } },
      );
    }
    return matches[0] as Handle;
  }

  /** The AES secret key with this label (cached per session). */
  key(label: string, keyRef?: string): Promise<KeyInfo> {
    let k = this.keys.get(label);
    if (!k) {
      k = this.findKey(label, keyRef).catch((e) => {
        this.keys.delete(label);
        throw e;
      });
      this.keys.set(label, k);
    }
    return k;
  }

  private async findKey(label: string, keyRef?: string): Promise<KeyInfo> {
    const { session } = await this.open();
    const handles = this.findObjects(session, [
      { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
      { type: P.CKA_LABEL, value: label },
    ]);
    if (handles.length === 0) {
      throw new SealkitError(
        "E_NOT_FOUND",
        `no secret key labelled "${label}" in token "${this.token}": create it with \`sealkit hsm create-key --token ${this.token} --label ${label}\`, or check the label (CKA_LABEL)`,
        { details: { provider: PKCS11_PROVIDER_ID, token: this.token, ...(keyRef ? { keyRef } : {}) } },
      );
    }
    if (handles.length > 1) {
      throw new SealkitError(
        "E_CONFIG",
        `${handles.length} secret keys are labelled "${label}" in token "${this.token}": labels of master keys must be unique; relabel or remove the extra ones`,
        { details: { provider: PKCS11_PROVIDER_ID, token: this.token, ...(keyRef ? { keyRef } : {}) } },
      );
    }
    const handle = handles[0] as Handle;
    const attrs = this.step(
      "attributes",
      () =>
        this.api.C_GetAttributeValue(session, handle, [
          { type: P.CKA_KEY_TYPE },
          { type: P.CKA_VALUE_LEN },
          { type: P.CKA_SENSITIVE },
          { type: P.CKA_EXTRACTABLE },
          { type: P.CKA_ENCRYPT },
          { type: P.CKA_DECRYPT },
        ]),
      keyRef,
    );
    const [keyType, valueLen, sensitive, extractable, enc, dec] = attrs.map((a) => a.value);
    if (ulong(keyType) !== P.CKK_AES || ulong(valueLen) !== 32) {
      throw new SealkitError(
        "E_CONFIG",
        `the key labelled "${label}" in token "${this.token}" is not an AES-256 key: use a key made by \`sealkit hsm create-key\``,
        { details: { provider: PKCS11_PROVIDER_ID, token: this.token, ...(keyRef ? { keyRef } : {}) } },
      );
    }
    return {
      handle,
      label,
      sensitive: bool(sensitive),
      extractable: bool(extractable),
      canEncrypt: bool(enc),
      canDecrypt: bool(dec),
    };
  }

  findObjects(session: Handle, template: { type: number; value: unknown }[]): Handle[] {
    return this.step("find", () => {
      this.api.C_FindObjectsInit(session, template as never);
      try {
        return this.api.C_FindObjects(session, 4);
      } finally {
        this.api.C_FindObjectsFinal(session);
      }
    });
  }

  /** Runs `fn` alone on this session: one token operation at a time. */
  exclusive<T>(fn: (open: Open) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => fn(await this.open()));
    this.queue = run.catch(() => {});
    return run;
  }

  /** AES-GCM encryption under `key` with this IV and AAD; returns ciphertext || tag. */
  encryptGcm(key: KeyInfo, iv: Buffer, aad: Uint8Array, plain: Uint8Array, keyRef?: string): Promise<Buffer> {
    return this.exclusive(async ({ session }) => {
      this.step("encrypt", () => this.api.C_EncryptInit(session, gcmMechanism(iv, aad), key.handle), keyRef);
      const out = Buffer.alloc(plain.length + GCM_TAG_BITS / 8);
      const input = Buffer.from(plain);
      try {
        return Buffer.from(await this.stepAsync("encrypt", () => this.api.C_EncryptAsync(session, input, out), keyRef));
      } finally {
        input.fill(0);
      }
    });
  }

  /** AES-GCM decryption: the token checks the tag and releases no bytes when it fails. */
  decryptGcm(key: KeyInfo, iv: Buffer, aad: Uint8Array, sealed: Buffer, keyRef?: string): Promise<Uint8Array> {
    return this.exclusive(async ({ session }) => {
      this.step("decrypt", () => this.api.C_DecryptInit(session, gcmMechanism(iv, aad), key.handle), keyRef);
      const out = Buffer.alloc(sealed.length);
      try {
        return new Uint8Array(await this.stepAsync("decrypt", () => this.api.C_DecryptAsync(session, sealed, out), keyRef));
      } finally {
        out.fill(0);
      }
    });
  }

  /** Forgets the session and cached handles; the next call opens and logs in again. */
  reset(): void {
    const opening = this.opening;
    this.opening = undefined;
    this.keys.clear();
    void opening?.then((o) => this.closeQuietly(o.session)).catch(() => {});
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    this.keys.clear();
    await this.queue;
    const o = await opening?.catch(() => undefined);
    if (o) this.closeQuietly(o.session);
  }

  private closeQuietly(session: Handle): void {
    try {
      this.api.C_CloseSession(session);
    } catch {
      // the session may already be gone with its device
    }
  }
}

/** 128-bit tag: NIST SP 800-38D §5.2.1.2. */
export const GCM_TAG_BITS = 128;

/** CKM_AES_GCM with a CK_GCM_PARAMS of PKCS#11 v2.40 (pIv, ulIvLen, ulIvBits, pAAD, ulAADLen, ulTagBits). */
function gcmMechanism(iv: Buffer, aad: Uint8Array) {
  return {
    mechanism: P.CKM_AES_GCM,
    parameter: { type: P.CK_PARAMS_GCM, iv, ivBits: iv.length * 8, aad: Buffer.from(aad), tagBits: GCM_TAG_BITS },
  };
}

function bool(v: Buffer | undefined): boolean {
  return !!v && v.length > 0 && v[0] !== 0;
}

/** A CK_ULONG attribute: native-endian, 4 or 8 bytes. */
function ulong(v: Buffer | undefined): number | undefined {
  if (!v) return undefined;
  if (v.length === 8) return Number(v.readBigUInt64LE());
  if (v.length === 4) return v.readUInt32LE();
  return undefined;
}
