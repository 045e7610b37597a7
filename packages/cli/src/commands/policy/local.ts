import type { PolicyInput, PolicyOutput } from "@sealkit/envelope";

/**
 * The policy of the built-in `local` provider: there is no cloud permission to grant; the
 * master key is a file (or SEALKIT_LOCAL_KEY) that only the function and operators may read.
 */
export function localPolicy(input: PolicyInput): PolicyOutput {
  return {
    provider: "local",
    runtime: { permission: "none", masterKey: "SEALKIT_LOCAL_KEY or the key file (.sealkit/local.key, mode 0600)" },
    operator: { permission: "none", masterKey: "the same key file, kept out of git" },
    summary: [
      "no cloud permission: the local master key opens the store",
      "keep the key file private (mode 0600, out of git); use a key service or an HSM in production",
      `secrets: ${input.secrets.join(", ") || "(none)"}`,
    ],
  };
}
