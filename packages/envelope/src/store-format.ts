import { fromBase64, toBase64 } from "./_bytes.js";
import { NONCE_BYTES, TAG_BYTES } from "./aead.js";
import { SealkitError } from "./errors.js";
import {
  type Envelope,
  FORMAT_VERSION,
  type KeyRecord,
  STORE_ID_PATTERN,
  type WrappedKey,
  isValidSecretName,
  parseWrappedKey,
} from "./format.js";

/** A wrapped data key as the store file keeps it: the record plus when it was wrapped. */
export interface StoredKey extends WrappedKey {
  readonly createdAt: string;
}

export interface StoredSecret {
  /** base64, 12 bytes. */
  readonly nonce: string;
  /** base64, ciphertext || tag. */
  readonly ciphertext: string;
  readonly updatedAt: string;
}

/** The store file, in memory. See docs/envelope-format.md. */
export interface StoreFile {
  readonly version: number;
  readonly storeId: string;
  readonly generation: number;
  readonly createdAt: string;
  /** When the current data key (this generation) was made. */
  readonly dataKeyCreatedAt: string;
  readonly keys: readonly StoredKey[];
  readonly secrets: Readonly<Record<string, StoredSecret>>;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Parses and validates a store file's text. Every error names the file and the bad field,
 * and an unknown format version says which versions this code reads.
 */
export function parseStore(text: string, file = "store"): StoreFile {
  const bad = (field: string, why: string) =>
    new SealkitError("E_FORMAT", `${file}: ${field} ${why}`, { details: { file, field } });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SealkitError("E_FORMAT", `${file}: not valid JSON (${(e as Error).message}); restore it from git`, {
      details: { file },
    });
  }
  const o = raw as Record<string, unknown>;
  if (!o || typeof o !== "object" || Array.isArray(o)) throw bad("(top level)", "is not a JSON object");
  if (o.sealkit === undefined) throw bad("sealkit", "is missing: this is not a Sealkit store file");
  if (o.sealkit !== FORMAT_VERSION) {
    throw new SealkitError(
      "E_FORMAT",
      `${file}: unsupported store format version ${JSON.stringify(o.sealkit)}; this Sealkit reads version ${FORMAT_VERSION}. Upgrade Sealkit.`,
      { details: { file, field: "sealkit" } },
    );
  }
  if (typeof o.storeId !== "string" || !STORE_ID_PATTERN.test(o.storeId)) throw bad("storeId", "is not a valid store id");
  if (!Number.isSafeInteger(o.generation) || (o.generation as number) < 1) throw bad("generation", "is not a positive integer");
  for (const f of ["createdAt", "dataKeyCreatedAt"] as const) {
    if (typeof o[f] !== "string" || !ISO.test(o[f] as string)) throw bad(f, "is not an ISO-8601 UTC time");
  }
  if (!Array.isArray(o.keys) || o.keys.length === 0) throw bad("keys", "must list at least one wrapped data key");
  const keys = o.keys.map((k, i): StoredKey => {
    const w = parseWrappedKey(k, `keys[${i}]`, (why) => bad(`keys[${i}]`, why.replace(`keys[${i}]`, "").trim() || why));
    const createdAt = (k as Record<string, unknown>).createdAt;
    if (typeof createdAt !== "string" || !ISO.test(createdAt)) throw bad(`keys[${i}].createdAt`, "is not an ISO-8601 UTC time");
    return Object.freeze({ ...w, createdAt });
  });
  const s = o.secrets as Record<string, unknown>;
  if (!s || typeof s !== "object" || Array.isArray(s)) throw bad("secrets", "is not an object");
  const secrets: Record<string, StoredSecret> = {};
  for (const [name, v] of Object.entries(s)) {
    const at = `secrets.${name}`;
    if (!isValidSecretName(name)) throw bad(at, "has an invalid secret name");
    const e = v as Record<string, unknown>;
    if (!e || typeof e !== "object") throw bad(at, "is not an object");
    const nonce = typeof e.nonce === "string" ? fromBase64(e.nonce) : undefined;
    if (!nonce || nonce.length !== NONCE_BYTES) throw bad(`${at}.nonce`, "is not 12 bytes of base64");
    const ct = typeof e.ciphertext === "string" ? fromBase64(e.ciphertext) : undefined;
    if (!ct || ct.length < TAG_BYTES) throw bad(`${at}.ciphertext`, "is not base64 of at least 16 bytes");
    if (typeof e.updatedAt !== "string" || !ISO.test(e.updatedAt)) throw bad(`${at}.updatedAt`, "is not an ISO-8601 UTC time");
    secrets[name] = Object.freeze({ nonce: e.nonce as string, ciphertext: e.ciphertext as string, updatedAt: e.updatedAt });
  }
  return Object.freeze({
    version: FORMAT_VERSION,
    storeId: o.storeId,
    generation: o.generation as number,
    createdAt: o.createdAt as string,
    dataKeyCreatedAt: o.dataKeyCreatedAt as string,
    keys: Object.freeze(keys),
    secrets: Object.freeze(secrets),
  });
}

/**
 * Serializes a store with a fixed key order, names sorted, one line per secret and per
 * wrapped key, so that git diffs show one line per change and merges rarely conflict.
 */
export function serializeStore(s: StoreFile): string {
  const j = JSON.stringify;
  const keyLine = (k: StoredKey) =>
    `    {"provider":${j(k.provider)},"keyRef":${j(k.keyRef)},"wrapped":${j(k.wrapped)},"context":${j(sortObject(k.context))},"createdAt":${j(k.createdAt)}}`;
  const names = Object.keys(s.secrets).sort();
  const secretLine = (n: string) => {
    const e = s.secrets[n] as StoredSecret;
    return `    ${j(n)}: {"nonce":${j(e.nonce)},"ciphertext":${j(e.ciphertext)},"updatedAt":${j(e.updatedAt)}}`;
  };
  return [
    "{",
    `  "sealkit": ${FORMAT_VERSION},`,
    `  "storeId": ${j(s.storeId)},`,
    `  "generation": ${s.generation},`,
    `  "createdAt": ${j(s.createdAt)},`,
    `  "dataKeyCreatedAt": ${j(s.dataKeyCreatedAt)},`,
    `  "keys": [`,
    s.keys.map(keyLine).join(",\n"),
    "  ],",
    names.length ? `  "secrets": {\n${names.map(secretLine).join(",\n")}\n  }` : `  "secrets": {}`,
    "}",
    "",
  ].join("\n");
}

function sortObject(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k] as string]));
}

/** The envelope of one stored secret. */
export function storedEnvelope(s: StoreFile, name: string): Envelope {
  const e = s.secrets[name];
  if (!e) throw new SealkitError("E_NOT_FOUND", `no secret named "${name}" in the store`, { details: { name } });
  return Object.freeze({
    version: FORMAT_VERSION,
    storeId: s.storeId,
    generation: s.generation,
    name,
    nonce: fromBase64(e.nonce) as Uint8Array,
    sealed: fromBase64(e.ciphertext) as Uint8Array,
  });
}

export function storedSecret(env: Envelope, updatedAt: string): StoredSecret {
  return Object.freeze({ nonce: toBase64(env.nonce), ciphertext: toBase64(env.sealed), updatedAt });
}

/** The store's data-key record, as a bundle carries it. */
export function keyRecordOf(s: StoreFile): KeyRecord {
  return Object.freeze({
    version: FORMAT_VERSION,
    storeId: s.storeId,
    generation: s.generation,
    keys: s.keys.map((k) => Object.freeze({ provider: k.provider, keyRef: k.keyRef, wrapped: k.wrapped, context: k.context })),
  });
}
