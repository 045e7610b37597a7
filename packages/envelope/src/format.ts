import { type Aead, KEY_BYTES, NONCE_BYTES, TAG_BYTES, nobleAead } from "./aead.js";
import {
  fromBase64,
  fromBase64Url,
  fromUtf8,
  randomBytes,
  toBase64,
  toBase64Url,
  utf8,
} from "./_bytes.js";
import { SealkitError, openFailed } from "./errors.js";

/** The envelope and store format version this code writes. Older versions stay readable. */
export const FORMAT_VERSION = 1;

/**
 * Secret names: a letter or underscore, then letters, digits, `_`, `.` or `-`; at most 128
 * characters. No `:` (the compact envelope's separator), no `/`, no spaces, so a name is
 * safe in a file path, an environment variable prefix, an IAM condition and a JS string.
 */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
export const STORE_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export function isValidSecretName(name: unknown): name is string {
  return typeof name === "string" && SECRET_NAME_PATTERN.test(name);
}

export function assertSecretName(name: unknown): asserts name is string {
  if (!isValidSecretName(name)) {
    throw new SealkitError(
      "E_INPUT",
      `invalid secret name ${JSON.stringify(String(name)).slice(0, 140)}: use a letter or _ first, then letters, digits, _, . or - (at most 128 characters)`,
      { details: { field: "name" } },
    );
  }
}

export function newStoreId(): string {
  return toBase64Url(randomBytes(16));
}

export function newDataKey(): Uint8Array {
  return randomBytes(KEY_BYTES);
}

/** Where a value lives: the AAD binds all three, plus the format version. */
export interface SecretAddress {
  readonly storeId: string;
  readonly generation: number;
  readonly name: string;
}

/**
 * The additional authenticated data of a value: the UTF-8 JSON array
 * `["sealkit/v1", storeId, generation, name]`. JSON makes the encoding unambiguous
 * (no field can run into the next), and every runtime can produce it byte-for-byte.
 */
export function valueAad(a: SecretAddress, version = FORMAT_VERSION): Uint8Array {
  return utf8(JSON.stringify([`sealkit/v${version}`, a.storeId, a.generation, a.name]));
}

/** One sealed value, bound to its address. */
export interface Envelope extends SecretAddress {
  readonly version: number;
  /** 12 random bytes. */
  readonly nonce: Uint8Array;
  /** Ciphertext || 16-byte GCM tag. */
  readonly sealed: Uint8Array;
}

export function sealValue(
  dataKey: Uint8Array,
  address: SecretAddress,
  value: string | Uint8Array,
  aead: Aead = nobleAead,
): Envelope {
  assertDataKey(dataKey);
  assertSecretName(address.name);
  const plaintext = typeof value === "string" ? utf8(value) : value;
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = aead.seal(dataKey, nonce, plaintext, valueAad(address));
  if (typeof value === "string") plaintext.fill(0);
  return Object.freeze({ version: FORMAT_VERSION, ...pickAddress(address), nonce, sealed });
}

/** Opens one value. Any failure, whatever its cause, is `E_AUTH` with the same message. */
export function openValue(dataKey: Uint8Array, env: Envelope, aead: Aead = nobleAead): Uint8Array {
  if (
    env.version !== FORMAT_VERSION ||
    dataKey.length !== KEY_BYTES ||
    env.nonce.length !== NONCE_BYTES ||
    env.sealed.length < TAG_BYTES
  ) {
    throw openFailed();
  }
  return aead.open(dataKey, env.nonce, env.sealed, valueAad(env, env.version));
}

/** Opens a value and decodes it as UTF-8. */
export function openText(dataKey: Uint8Array, env: Envelope, aead: Aead = nobleAead): string {
  const bytes = openValue(dataKey, env, aead);
  try {
    return fromUtf8(bytes);
  } catch {
    throw new SealkitError(
      "E_FORMAT",
      `secret "${env.name}" is binary, not UTF-8 text: read it with secretBytes()`,
      { details: { name: env.name } },
    );
  } finally {
    bytes.fill(0);
  }
}

function pickAddress(a: SecretAddress): SecretAddress {
  return { storeId: a.storeId, generation: a.generation, name: a.name };
}

export function assertDataKey(k: unknown): asserts k is Uint8Array {
  if (!(k instanceof Uint8Array)) throw new TypeError("dataKey: expected Uint8Array");
  if (k.length !== KEY_BYTES) throw new RangeError(`dataKey: expected ${KEY_BYTES} bytes`);
}

/*
 * Compact text form of an envelope, used inside bundles:
 *   sealkit:1:<storeId>:<generation>:<name>:<nonce b64url>:<sealed b64url>
 * Seven fields separated by ':', none of which may contain one.
 */
export const ENVELOPE_PREFIX = "sealkit:";

/**
 * `Symbol.for()` key of the realm's queue of envelope maps: a bundle chunk can register its
 * envelopes with `(q = q || []).push({ name: envelope })`, `q` being `globalThis[Symbol.for(ENVELOPE_QUEUE)]`,
 * before the runtime has loaded (the Vite plugin does), and the runtime takes them in.
 */
export const ENVELOPE_QUEUE = "sealkit.envelopes";

export function encodeEnvelope(env: Envelope): string {
  return [
    "sealkit",
    env.version,
    env.storeId,
    env.generation,
    env.name,
    toBase64Url(env.nonce),
    toBase64Url(env.sealed),
  ].join(":");
}

export function decodeEnvelope(text: string): Envelope {
  const bad = (why: string) =>
    new SealkitError("E_FORMAT", `malformed envelope: ${why}`, { details: { field: "envelope" } });
  if (typeof text !== "string") throw bad("not a string");
  const parts = text.split(":");
  if (parts.length !== 7 || parts[0] !== "sealkit") throw bad("expected sealkit:<version>:... with 7 fields");
  const [, v, storeId, gen, name, nonceText, sealedText] = parts as [string, string, string, string, string, string, string];
  // Canonical text only ("01" or "1.0" is not version 1): one envelope, one spelling.
  const version = Number(v);
  if (version !== FORMAT_VERSION || v !== String(FORMAT_VERSION)) {
    throw new SealkitError(
      "E_FORMAT",
      `unsupported envelope format version ${JSON.stringify(v)}; this Sealkit reads version ${FORMAT_VERSION}. Upgrade @sealkit/runtime.`,
      { details: { field: "version" } },
    );
  }
  if (!STORE_ID_PATTERN.test(storeId)) throw bad("bad store id");
  const generation = Number(gen);
  if (!Number.isSafeInteger(generation) || generation < 1 || String(generation) !== gen) throw bad("bad generation");
  if (!isValidSecretName(name)) throw bad("bad secret name");
  const nonce = fromBase64Url(nonceText);
  const sealed = fromBase64Url(sealedText);
  if (!nonce || nonce.length !== NONCE_BYTES) throw bad("bad nonce");
  if (!sealed || sealed.length < TAG_BYTES) throw bad("bad ciphertext");
  return Object.freeze({ version, storeId, generation, name, nonce, sealed });
}

/* ---------------------------------------------------------------------------------------
 * Wrapped data keys.
 * ------------------------------------------------------------------------------------- */

/** The context every key-service call carries (AWS encryption context, GCP AAD, ...). */
export type WrapContext = Readonly<Record<string, string>>;

export function wrapContext(storeId: string, generation: number): WrapContext {
  return Object.freeze({ "sealkit:store": storeId, "sealkit:generation": String(generation) });
}

/** Canonical bytes of a wrap context, for providers that take AAD bytes: sorted-key JSON. */
export function contextAad(ctx: WrapContext): Uint8Array {
  const keys = Object.keys(ctx).sort();
  return utf8(JSON.stringify(keys.map((k) => [k, ctx[k]])));
}

/** A data key wrapped under one master key: a frozen record. */
export interface WrappedKey {
  /** The provider id, e.g. `local`, `aws-kms`. */
  readonly provider: string;
  /** The master key reference, e.g. an ARN; pinned to a version where the service has one. */
  readonly keyRef: string;
  /** The wrapped data key, base64. */
  readonly wrapped: string;
  /** The context it was wrapped with; unwrap must present the same. */
  readonly context: WrapContext;
}

/** The per-store data-key record a bundle carries exactly once. */
export interface KeyRecord {
  readonly version: number;
  readonly storeId: string;
  readonly generation: number;
  readonly keys: readonly WrappedKey[];
}

/** `sealkit-key:1:<base64url of the record's JSON>`: a recognisable, versioned marker. */
export const KEY_RECORD_PREFIX = "sealkit-key:";
export const KEY_RECORD_PATTERN = /sealkit-key:(\d+):([A-Za-z0-9_-]+)/g;

export function encodeKeyRecord(r: KeyRecord): string {
  const json = JSON.stringify({
    v: r.version,
    store: r.storeId,
    generation: r.generation,
    keys: r.keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef, wrapped: k.wrapped, context: k.context })),
  });
  return `${KEY_RECORD_PREFIX}${r.version}:${toBase64Url(utf8(json))}`;
}

export function decodeKeyRecord(text: string): KeyRecord {
  const bad = (why: string) =>
    new SealkitError("E_FORMAT", `malformed data-key record: ${why}`, { details: { field: "keyRecord" } });
  if (typeof text !== "string" || !text.startsWith(KEY_RECORD_PREFIX)) throw bad("missing sealkit-key: prefix");
  const rest = text.slice(KEY_RECORD_PREFIX.length);
  const colon = rest.indexOf(":");
  const v = rest.slice(0, colon);
  if (colon < 0 || v !== String(FORMAT_VERSION)) {
    throw new SealkitError(
      "E_FORMAT",
      `unsupported data-key record version ${JSON.stringify(v)}; this Sealkit reads version ${FORMAT_VERSION}`,
      { details: { field: "version" } },
    );
  }
  const bytes = fromBase64Url(rest.slice(colon + 1));
  if (!bytes) throw bad("not base64url");
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8(bytes));
  } catch {
    throw bad("not JSON");
  }
  const o = raw as Record<string, unknown>;
  if (!o || typeof o !== "object" || o.v !== FORMAT_VERSION) throw bad("bad version field");
  if (typeof o.store !== "string" || !STORE_ID_PATTERN.test(o.store)) throw bad("bad store id");
  if (!Number.isSafeInteger(o.generation) || (o.generation as number) < 1) throw bad("bad generation");
  if (!Array.isArray(o.keys) || o.keys.length === 0) throw bad("no wrapped keys");
  const keys = o.keys.map((k, i) => parseWrappedKey(k, `keys[${i}]`, bad));
  return Object.freeze({ version: FORMAT_VERSION, storeId: o.store, generation: o.generation as number, keys });
}

export function parseWrappedKey(
  k: unknown,
  path: string,
  bad: (why: string) => Error,
): WrappedKey {
  const o = k as Record<string, unknown>;
  if (!o || typeof o !== "object") throw bad(`${path} is not an object`);
  if (typeof o.provider !== "string" || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(o.provider)) throw bad(`${path}.provider is invalid`);
  if (typeof o.keyRef !== "string" || o.keyRef.length === 0 || o.keyRef.length > 2048) throw bad(`${path}.keyRef is invalid`);
  if (typeof o.wrapped !== "string" || !fromBase64(o.wrapped) || o.wrapped.length === 0) throw bad(`${path}.wrapped is not base64`);
  const ctx = o.context as Record<string, unknown>;
  if (!ctx || typeof ctx !== "object" || Array.isArray(ctx)) throw bad(`${path}.context is not an object`);
  for (const [ck, cv] of Object.entries(ctx)) if (typeof cv !== "string") throw bad(`${path}.context.${ck} is not a string`);
  return Object.freeze({
    provider: o.provider,
    keyRef: o.keyRef,
    wrapped: o.wrapped,
    context: Object.freeze({ ...(ctx as Record<string, string>) }),
  });
}

export function wrappedBytes(k: WrappedKey): Uint8Array {
  const b = fromBase64(k.wrapped);
  if (!b) throw new SealkitError("E_FORMAT", "wrapped data key is not base64", { details: { provider: k.provider, keyRef: k.keyRef } });
  return b;
}

export { toBase64, fromBase64 };
