import { SealkitError } from "@sealkit/envelope";

/** The provider id, as stores, bundles and `sealkit init --provider` name it. */
export const PKCS11_PROVIDER_ID = "pkcs11";

/** A master key in a token, as a keyRef names it. */
export interface Pkcs11KeyRef {
  /** CKA_LABEL of the token (its CK_TOKEN_INFO label), at most 32 bytes. */
  readonly token: string;
  /** CKA_LABEL of the AES-256 secret key inside the token. */
  readonly object: string;
}

const TOKEN_LABEL_MAX = 32;

/*
 * keyRef syntax: an RFC 7512 PKCS#11 URI with exactly two path attributes,
 *   pkcs11:token=<token label>;object=<key label>
 * percent-encoded (RFC 7512 §2.3). `type=secret-key` is accepted and dropped. The module
 * path and the PIN are deliberately NOT part of it: the keyRef is pinned into stores and
 * bundles, and must not change when the module moves or leak a PIN (see
 * docs/providers/pkcs11.md, "keyRef").
 */
export function formatKeyRef(ref: Pkcs11KeyRef): string {
  checkLabels(ref.token, ref.object);
  return `pkcs11:token=${encode(ref.token)};object=${encode(ref.object)}`;
}

export function parseKeyRef(keyRef: string): Pkcs11KeyRef {
  const bad = (why: string) =>
    new SealkitError(
      "E_CONFIG",
      `invalid PKCS#11 key reference ${JSON.stringify(keyRef.slice(0, 200))}: ${why}; expected pkcs11:token=<token label>;object=<key label>`,
      { details: { provider: PKCS11_PROVIDER_ID, keyRef: keyRef.slice(0, 200) } },
    );
  if (typeof keyRef !== "string" || !keyRef.startsWith("pkcs11:")) throw bad("it does not start with pkcs11:");
  const rest = keyRef.slice("pkcs11:".length);
  if (rest.includes("?")) {
    throw bad("query attributes (module-path, pin-value, pin-source) are not accepted: set SEALKIT_PKCS11_MODULE and SEALKIT_PKCS11_PIN(_FILE) instead");
  }
  const attrs = new Map<string, string>();
  for (const part of rest.split(";")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw bad(`"${part.slice(0, 40)}" is not name=value`);
    const name = part.slice(0, eq);
    if (attrs.has(name)) throw bad(`attribute ${name} given twice`);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      throw bad(`attribute ${name} is not valid percent-encoding`);
    }
    attrs.set(name, value);
  }
  for (const name of attrs.keys()) {
    if (name !== "token" && name !== "object" && name !== "type") {
      throw bad(`attribute "${name}" is not supported (only token, object and type=secret-key)`);
    }
  }
  const type = attrs.get("type");
  if (type !== undefined && type !== "secret-key") throw bad("type must be secret-key");
  const token = attrs.get("token");
  const object = attrs.get("object");
  if (!token) throw bad("token=<label> is missing");
  if (!object) throw bad("object=<label> is missing");
  try {
    checkLabels(token, object);
  } catch (e) {
    throw bad((e as Error).message);
  }
  return { token, object };
}

/** True when `s` looks like a PKCS#11 URI (rather than a bare key label). */
export function isKeyRef(s: string): boolean {
  return s.startsWith("pkcs11:");
}

function checkLabels(token: string, object: string): void {
  if (!token || new TextEncoder().encode(token).length > TOKEN_LABEL_MAX) {
    throw new SealkitError("E_INPUT", `token label must be 1 to ${TOKEN_LABEL_MAX} bytes`);
  }
  if (token !== token.trim()) throw new SealkitError("E_INPUT", "token label must not start or end with spaces");
  if (!object || object.length > 256) throw new SealkitError("E_INPUT", "key label must be 1 to 256 characters");
}

/** RFC 7512 §2.3: everything but unreserved characters is percent-encoded. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
