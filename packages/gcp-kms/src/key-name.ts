import { SealkitError } from "@sealkit/envelope";

/** The parts of a Cloud KMS CryptoKey (or CryptoKeyVersion) resource name. */
export interface KeyName {
  readonly project: string;
  readonly location: string;
  readonly keyRing: string;
  readonly key: string;
  /** `projects/…/locations/…/keyRings/…/cryptoKeys/…`: what encrypt, decrypt and IAM take. */
  readonly cryptoKey: string;
  /** The version number when the name was a CryptoKeyVersion name. */
  readonly version?: string;
}

// Resource-name grammar from the Cloud KMS docs: project ids may be domain-scoped
// (`example.com:proj`); key ring and key ids are 1–63 of [a-zA-Z0-9_-].
const KEY_NAME =
  /^projects\/([a-z0-9.:-]{1,100})\/locations\/([a-z0-9-]{1,63})\/keyRings\/([a-zA-Z0-9_-]{1,63})\/cryptoKeys\/([a-zA-Z0-9_-]{1,63})(?:\/cryptoKeyVersions\/([1-9][0-9]{0,18}))?$/;

export const KEY_NAME_EXAMPLE = "projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY";

/** Parses a key reference; a malformed one is E_CONFIG with the expected shape in the message. */
export function parseKeyName(ref: string): KeyName {
  const m = typeof ref === "string" ? KEY_NAME.exec(ref.trim()) : null;
  if (!m) {
    const shown = typeof ref === "string" ? JSON.stringify(ref.slice(0, 200)) : typeof ref;
    throw new SealkitError(
      "E_CONFIG",
      `gcp-kms: ${shown} is not a Cloud KMS key name: expected ${KEY_NAME_EXAMPLE} (optionally followed by /cryptoKeyVersions/N), as printed by \`gcloud kms keys list --format='value(name)'\``,
      { details: { provider: "gcp-kms" } },
    );
  }
  const [, project, location, keyRing, key, version] = m as unknown as [string, string, string, string, string, string?];
  const cryptoKey = `projects/${project}/locations/${location}/keyRings/${keyRing}/cryptoKeys/${key}`;
  return version === undefined
    ? { project, location, keyRing, key, cryptoKey }
    : { project, location, keyRing, key, cryptoKey, version };
}
