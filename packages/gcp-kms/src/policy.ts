import type { PolicyInput, PolicyOutput } from "@sealkit/envelope";
import { PROVIDER_ID } from "./_errors.js";
import { type KeyName, parseKeyName } from "./key-name.js";

export interface GcpPolicyOptions {
  /**
   * The function's service account e-mail. Default: `SEALKIT_GCP_SERVICE_ACCOUNT`, else the
   * shell variable `$FUNCTION_SA` in the commands.
   */
  serviceAccount?: string;
  /** IAM member for whoever runs `sealkit set`/`rekey`. Default: `user:$OPERATOR_EMAIL`. */
  operator?: string;
}

export const RUNTIME_ROLE = "roles/cloudkms.cryptoKeyDecrypter";
export const OPERATOR_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter";

/** One IAM binding on one CryptoKey, with the gcloud command that adds it. */
export interface KeyBinding {
  resource: string;
  role: string;
  members: string[];
  gcloud: string;
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function binding(key: KeyName, role: string, member: string): KeyBinding {
  // Member values that are shell variables stay expandable (double quotes).
  const m = member.includes("$") ? `"${member}"` : shellQuote(member);
  return {
    resource: key.cryptoKey,
    role,
    members: [member],
    gcloud: [
      "gcloud kms keys add-iam-policy-binding",
      shellQuote(key.key),
      `--keyring=${shellQuote(key.keyRing)}`,
      `--location=${shellQuote(key.location)}`,
      `--project=${shellQuote(key.project)}`,
      `--member=${m}`,
      `--role=${role}`,
    ].join(" "),
  };
}

/**
 * Least privilege for one function on Cloud KMS: `roles/cloudkms.cryptoKeyDecrypter` on
 * exactly the keys its bundle names (IAM bindings on the CryptoKey, which every version
 * inherits), and the encrypter/decrypter role for the operator. Cloud IAM has no condition
 * on the AAD, so the store binding is enforced by the AAD itself, not by IAM.
 */
export function policy(input: PolicyInput, options: GcpPolicyOptions = {}): PolicyOutput {
  const keys = new Map<string, KeyName>();
  for (const k of input?.keys ?? []) {
    if (k.provider !== PROVIDER_ID) continue;
    const n = parseKeyName(k.keyRef);
    keys.set(n.cryptoKey, n);
  }
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const sa = options.serviceAccount ?? (env?.SEALKIT_GCP_SERVICE_ACCOUNT || "$FUNCTION_SA");
  const runtimeMember = sa.includes(":") ? sa : `serviceAccount:${sa}`;
  const operatorMember = options.operator ?? "user:$OPERATOR_EMAIL";
  const list = [...keys.values()];
  const runtime = list.map((k) => binding(k, RUNTIME_ROLE, runtimeMember));
  const operator = list.map((k) => binding(k, OPERATOR_ROLE, operatorMember));
  const summary = [
    `${input.output}: the function's service account (${runtimeMember}) needs ${RUNTIME_ROLE} on ${list.length === 1 ? "this key" : `these ${list.length} keys`} only:`,
    ...runtime.map((b) => `  ${b.gcloud}`),
    `Operators who run sealkit set/rekey need ${OPERATOR_ROLE} on the same key${list.length === 1 ? "" : "s"} (and roles/cloudkms.viewer for sealkit init's key check).`,
    `Each decrypt must present the AAD of store ${input.storeId} generation ${input.generation}; Cloud IAM cannot condition on it, so keep one key per trust boundary.`,
  ];
  if (sa === "$FUNCTION_SA") summary.push("Set FUNCTION_SA to the function's service-account e-mail before running the commands.");
  return {
    provider: PROVIDER_ID,
    runtime: { bindings: runtime.map(({ gcloud: _g, ...b }) => b), gcloud: runtime.map((b) => b.gcloud) },
    operator: { bindings: operator.map(({ gcloud: _g, ...b }) => b), gcloud: operator.map((b) => b.gcloud) },
    summary,
  };
}
