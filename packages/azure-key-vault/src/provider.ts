/**
 * The Azure Key Vault provider. Imports the SDK; `index.ts` loads this module lazily.
 *
 * Wrapped form (see docs/providers/azure-key-vault.md):
 *   payload = dataKey (32) || SHA-256("sealkit/azure-key-vault/context/1\0" || contextAad(context)) (32)
 *   RSA keys:         RSA-OAEP-256(payload), done locally with the key's public JWK (256+ bytes)
 *   oct-HSM AES keys: A256KW(payload) in the HSM (RFC 3394, 72 bytes)
 * Key Vault's wrap operations take no AAD, so the context digest inside the payload binds it:
 * OAEP is non-malleable and KW is deterministic authenticated encryption, so a record moved
 * to another store or generation unwraps to a payload whose digest does not match.
 */
import { constants, createHash, createPublicKey, publicEncrypt, timingSafeEqual } from "node:crypto";
import {
  CryptographyClient,
  type CryptographyClientOptions,
  KeyClient,
  type KeyClientOptions,
  type KeyVaultKey,
  type KeyWrapAlgorithm,
} from "@azure/keyvault-keys";
import { type KeyProvider, type ProviderCall, SealkitError, contextAad, openFailed, wipe } from "@sealkit/envelope";
import { type KeyRef, parseKeyRef, versionedKeyRef } from "./_key-ref.js";
import { toSealkitError } from "./_errors.js";

/** The credential type the SDK takes (from @azure/core-auth). */
export type TokenCredential = ConstructorParameters<typeof KeyClient>[1];

export const PROVIDER_ID = "azure-key-vault";
const KEY_BYTES = 32;
const PAYLOAD_BYTES = 64;
const KW_BYTES = PAYLOAD_BYTES + 8; // RFC 3394: n+1 64-bit blocks
const MIN_RSA_BYTES = 256; // 2048-bit modulus
const CONTEXT_LABEL = new TextEncoder().encode("sealkit/azure-key-vault/context/1\0");

export interface AzureKeyVaultProviderOptions {
  /** Defaults to `new DefaultAzureCredential()`, made on first use. */
  credential?: TokenCredential;
  /** Passed to KeyClient and CryptographyClient (tlsOptions, httpClient, serviceVersion...). */
  clientOptions?: KeyClientOptions;
  /**
   * SDK retries per call. Default 0: the Sealkit runtime retries with its own policy, and
   * the CLI fails fast with E_THROTTLED (its writes are atomic, so a re-run is safe).
   */
  maxRetries?: number;
}

export interface KeyDescription {
  /** Versioned identifier of the key's current version. */
  keyRef: string;
  kty: string;
  /** "RSA-OAEP-256 (local, public key)" or "A256KW (in the HSM)". */
  wrapAlgorithm: "RSA-OAEP-256" | "A256KW";
  localWrap: boolean;
}

function contextDigest(call: ProviderCall): Buffer {
  return createHash("sha256").update(CONTEXT_LABEL).update(contextAad(call.context)).digest();
}

function isRsa(kty: string | undefined): boolean {
  return kty === "RSA" || kty === "RSA-HSM";
}
function isAes(kty: string | undefined): boolean {
  return kty === "oct" || kty === "oct-HSM";
}

/** A KeyVaultKey with no key material: the CryptographyClient then calls the service directly, without a GET first. */
function remoteOnly(ref: KeyRef, version: string): KeyVaultKey {
  const id = versionedKeyRef(ref, version);
  return { id, name: ref.name, properties: { id, name: ref.name, vaultUrl: ref.vaultUrl, version } } as KeyVaultKey;
}

function envClientOptions(): Partial<KeyClientOptions> {
  // For Azure Stack vaults and local emulators, whose challenge resource is not the vault's domain.
  const v = (process.env.SEALKIT_AZURE_CHALLENGE_RESOURCE_VERIFICATION ?? "").toLowerCase();
  return v === "off" || v === "false" || v === "0" ? { disableChallengeResourceVerification: true } : {};
}

export function create(options: AzureKeyVaultProviderOptions = {}): KeyProvider & {
  describeKey(keyRef: string, signal?: AbortSignal): Promise<KeyDescription>;
} {
  let credential: Promise<TokenCredential> | undefined = options.credential ? Promise.resolve(options.credential) : undefined;
  const getCredential = () =>
    (credential ??= import("@azure/identity").then((m) => new m.DefaultAzureCredential() as TokenCredential));
  const clientOptions: CryptographyClientOptions = {
    ...envClientOptions(),
    ...options.clientOptions,
    retryOptions: { maxRetries: options.maxRetries ?? 0, ...options.clientOptions?.retryOptions },
  };
  const keyClients = new Map<string, KeyClient>();
  const cryptoClients = new Map<string, CryptographyClient>();

  const keyClient = async (ref: KeyRef) => {
    let c = keyClients.get(ref.vaultUrl);
    if (!c) keyClients.set(ref.vaultUrl, (c = new KeyClient(ref.vaultUrl, await getCredential(), clientOptions)));
    return c;
  };
  const cryptoClient = async (ref: KeyRef, version: string) => {
    const id = versionedKeyRef(ref, version);
    let c = cryptoClients.get(id);
    if (!c) cryptoClients.set(id, (c = new CryptographyClient(remoteOnly(ref, version), await getCredential(), clientOptions)));
    return c;
  };

  /** The key's current version (GET without a version: needs keys get / keys/read). */
  const currentKey = async (ref: KeyRef, signal?: AbortSignal): Promise<KeyVaultKey> => {
    const key = await (await keyClient(ref)).getKey(ref.name, signal ? { abortSignal: signal } : {});
    if (key.properties.enabled === false) {
      throw new SealkitError("E_KEY_DISABLED", `azure-key-vault: the current version of ${ref.vaultUrl}/keys/${ref.name} is disabled`, {
        details: { provider: PROVIDER_ID, keyRef: key.id },
      });
    }
    return key;
  };

  const describe = (ref: KeyRef, key: KeyVaultKey): KeyDescription => {
    const kty = key.key?.kty ?? key.keyType;
    const version = key.properties.version;
    const id = version ? versionedKeyRef(ref, version) : undefined;
    const cfg = (why: string) =>
      new SealkitError("E_CONFIG", `azure-key-vault: ${ref.vaultUrl}/keys/${ref.name} ${why}`, {
        details: { provider: PROVIDER_ID, keyRef: id ?? ref.name },
      });
    if (!id) throw cfg("was returned without a version");
    const ops = key.keyOperations ?? key.key?.keyOps;
    /* Precondition: the key can unwrap, or nothing wrapped under it could ever be opened. */
    if (ops && !ops.includes("unwrapKey")) throw cfg("does not allow the unwrapKey operation (key_ops)");
    if (isRsa(kty)) {
      if (!key.key?.n || key.key.n.length < MIN_RSA_BYTES) throw cfg("is an RSA key shorter than 2048 bits");
      return { keyRef: id, kty: String(kty), wrapAlgorithm: "RSA-OAEP-256", localWrap: true };
    }
    if (isAes(kty)) {
      if (ops && !ops.includes("wrapKey")) throw cfg("does not allow the wrapKey operation (key_ops)");
      return { keyRef: id, kty: String(kty), wrapAlgorithm: "A256KW", localWrap: false };
    }
    throw cfg(`has key type ${kty}; Sealkit wraps with RSA (RSA-OAEP-256) or Managed HSM AES (A256KW) keys`);
  };

  const run = async <T>(op: "wrap" | "unwrap" | "get", keyRef: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw toSealkitError(e, op, keyRef);
    }
  };

  return {
    id: PROVIDER_ID,

    async describeKey(keyRef, signal) {
      const ref = parseKeyRef(keyRef);
      return run("get", keyRef, async () => describe(ref, await currentKey(ref, signal)));
    },

    /**
     * Wraps under the key's current version, whatever version `keyRef` names (so rekey moves
     * to the latest version), and returns that version's identifier to pin.
     */
    async wrap(dataKey, call) {
      const ref = parseKeyRef(call.keyRef);
      return run("wrap", call.keyRef, async () => {
        const key = await currentKey(ref, call.signal);
        const d = describe(ref, key);
        const payload = Buffer.concat([dataKey, contextDigest(call)]);
        try {
          if (d.localWrap) {
            // The SDK's local RSA provider knows RSA-OAEP (SHA-1) only; OAEP-SHA-256 is done here.
            const pub = createPublicKey({
              key: { kty: "RSA", n: Buffer.from(key.key?.n as Uint8Array).toString("base64url"), e: Buffer.from(key.key?.e as Uint8Array).toString("base64url") },
              format: "jwk",
            });
            const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, payload);
            return { wrapped: new Uint8Array(wrapped), keyRef: d.keyRef };
          }
          const version = d.keyRef.slice(d.keyRef.lastIndexOf("/") + 1);
          const r = await (await cryptoClient(ref, version)).wrapKey("A256KW", payload, call.signal ? { abortSignal: call.signal } : {});
          return { wrapped: new Uint8Array(r.result), keyRef: d.keyRef };
        } finally {
          payload.fill(0);
        }
      });
    },

    /** Unwraps with exactly the pinned version: one call to the service, no GET. */
    async unwrap(wrapped, call) {
      const ref = parseKeyRef(call.keyRef);
      if (!ref.version) {
        throw new SealkitError("E_CONFIG", `azure-key-vault: ${call.keyRef} pins no key version; records always carry one (re-run sealkit rekey)`, {
          details: { provider: PROVIDER_ID, keyRef: call.keyRef },
        });
      }
      // The algorithm follows from the size: A256KW of the 64-byte payload is 72 bytes, an RSA block is 256 or more.
      let alg: KeyWrapAlgorithm;
      if (wrapped.length === KW_BYTES) alg = "A256KW";
      else if (wrapped.length >= MIN_RSA_BYTES) alg = "RSA-OAEP-256";
      else throw openFailed({ provider: PROVIDER_ID, keyRef: call.keyRef });
      const version = ref.version;
      const out = await run("unwrap", call.keyRef, async () =>
        (await cryptoClient(ref, version)).unwrapKey(alg, wrapped, call.signal ? { abortSignal: call.signal } : {}),
      );
      const payload = out.result;
      try {
        /* Postcondition: the payload is a data key followed by the digest of this record's context. */
        const digest = contextDigest(call);
        if (payload.length !== PAYLOAD_BYTES || !timingSafeEqual(payload.subarray(KEY_BYTES), digest)) {
          throw openFailed({ provider: PROVIDER_ID, keyRef: call.keyRef });
        }
        return Uint8Array.from(payload.subarray(0, KEY_BYTES)); // a copy: Buffer#slice would be a view
      } finally {
        wipe(payload);
      }
    },
  };
}
