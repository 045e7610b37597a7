import { SealkitError } from "@sealkit/envelope";

/** A parsed Key Vault (or Managed HSM) key identifier. */
export interface KeyRef {
  /** `https://<vault>.vault.azure.net` (no trailing slash). */
  readonly vaultUrl: string;
  readonly name: string;
  /** The pinned version, when the identifier names one. */
  readonly version?: string;
  /** True for Managed HSM hosts (`*.managedhsm.azure.net`), whose RBAC is local to the HSM. */
  readonly managedHsm: boolean;
  /** The vault or HSM name: the first label of the host. */
  readonly vaultName: string;
}

// Key names: 1-127 of [0-9a-zA-Z-] (Key Vault object naming rules).
const NAME = /^[0-9A-Za-z-]{1,127}$/;
// Versions are 32 hex digits on the service.
const VERSION = /^[0-9A-Fa-f]{32}$/;

const EXAMPLE = "https://<vault>.vault.azure.net/keys/<key-name>[/<version>]";

/**
 * Parses a key identifier URL. Any https host is accepted (sovereign clouds, Managed HSM,
 * Azure Stack, local test servers); the path must be `/keys/<name>[/<version>]`.
 */
export function parseKeyRef(keyRef: string): KeyRef {
  const bad = (why: string) =>
    new SealkitError("E_CONFIG", `azure-key-vault: "${String(keyRef).slice(0, 200)}" is not a key identifier (${why}); expected ${EXAMPLE}`, {
      details: { provider: "azure-key-vault", keyRef: String(keyRef).slice(0, 200) },
    });
  if (typeof keyRef !== "string" || keyRef.length === 0) throw bad("empty");
  let u: URL;
  try {
    u = new URL(keyRef);
  } catch {
    throw bad("not a URL");
  }
  if (u.protocol !== "https:") throw bad("Key Vault is reached over https only");
  if (u.username || u.password || u.search || u.hash) throw bad("no credentials, query or fragment allowed");
  const parts = u.pathname.replace(/\/$/, "").split("/").slice(1);
  if (parts[0] !== "keys" || parts.length < 2 || parts.length > 3) throw bad("the path must be /keys/<name>[/<version>]");
  const [, name, version] = parts as [string, string, string | undefined];
  if (!NAME.test(name)) throw bad("key names are 1-127 letters, digits and dashes");
  if (version !== undefined && !VERSION.test(version)) throw bad("a key version is 32 hex digits");
  const host = u.hostname.toLowerCase();
  return Object.freeze({
    vaultUrl: u.origin,
    name,
    ...(version ? { version } : {}),
    managedHsm: host.endsWith(".managedhsm.azure.net") || host.includes(".managedhsm."),
    vaultName: host.split(".")[0] as string,
  });
}

/** The identifier of one key version. */
export function versionedKeyRef(ref: KeyRef, version: string): string {
  return `${ref.vaultUrl}/keys/${ref.name}/${version}`;
}
