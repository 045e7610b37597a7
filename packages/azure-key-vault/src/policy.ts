import type { PolicyInput, PolicyOutput } from "@sealkit/envelope";
import { parseKeyRef } from "./_key-ref.js";

const UNWRAP_VAULT = "Microsoft.KeyVault/vaults/keys/unwrap/action";
const UNWRAP_HSM = "Microsoft.KeyVault/managedHsm/keys/unwrap/action";
const PRINCIPAL = "<principal-id of the function's managed identity>";
const SUB = "<subscription-id>";
const RG = "<resource-group>";

/**
 * Least privilege for a function that opens these stores: a custom role with the single data
 * action `keys/unwrap/action`, assigned at the scope of each key (Azure RBAC can scope a
 * role assignment to one key, not to one key version), or, for vaults on the access-policy
 * model, the `unwrapKey` key permission (vault-wide: access policies cannot name a key).
 * Managed HSM uses its own local RBAC with the same shape.
 */
export function policy(input: PolicyInput): PolicyOutput {
  const keys = input.keys.map((k) => {
    const ref = parseKeyRef(k.keyRef);
    const vaultScope = ref.managedHsm
      ? "/"
      : `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/${ref.vaultName}`;
    const keyScope = ref.managedHsm ? `/keys/${ref.name}` : `${vaultScope}/keys/${ref.name}`;
    return { ref, keyRef: k.keyRef, vaultScope, keyScope };
  });
  const roleName = "Sealkit Key Unwrap";
  const runtime = keys.map(({ ref, keyRef, vaultScope, keyScope }) => {
    const action = ref.managedHsm ? UNWRAP_HSM : UNWRAP_VAULT;
    const roleDefinition = {
      Name: roleName,
      IsCustom: true,
      Description: "Unwrap data keys with one key (Sealkit runtime). Nothing else: no get, no wrap, no decrypt.",
      Actions: [],
      NotActions: [],
      DataActions: [action],
      NotDataActions: [],
      AssignableScopes: [vaultScope],
    };
    return {
      keyRef,
      pinnedVersion: ref.version ?? null,
      kind: ref.managedHsm ? "managed-hsm-local-rbac" : "azure-rbac",
      roleDefinition,
      roleAssignment: { role: roleName, principalId: PRINCIPAL, principalType: "ServicePrincipal", scope: keyScope },
      commands: ref.managedHsm
        ? [
            `az keyvault role definition create --hsm-name ${ref.vaultName} --role-definition @sealkit-unwrap-role.json`,
            `az keyvault role assignment create --hsm-name ${ref.vaultName} --role "${roleName}" --assignee-object-id ${PRINCIPAL} --assignee-principal-type ServicePrincipal --scope ${keyScope}`,
          ]
        : [
            "az role definition create --role-definition @sealkit-unwrap-role.json",
            `az role assignment create --role "${roleName}" --assignee-object-id ${PRINCIPAL} --assignee-principal-type ServicePrincipal --scope ${keyScope}`,
          ],
      ...(ref.managedHsm
        ? {}
        : {
            accessPolicyAlternative: {
              note: "only for vaults on the access-policy permission model; access policies are vault-wide",
              permissions: { keys: ["unwrapKey"] },
              command: `az keyvault set-policy --name ${ref.vaultName} --object-id ${PRINCIPAL} --key-permissions unwrapKey`,
            },
          }),
    };
  });
  const operator = keys.map(({ ref, keyRef, keyScope }) => ({
    keyRef,
    // RSA keys wrap locally with the public key (keys/read); AES keys wrap in the HSM (keys/wrap).
    // The store opens the data key to verify every new wrap and to seal values, so unwrap too.
    dataActions: ref.managedHsm
      ? ["Microsoft.KeyVault/managedHsm/keys/read/action", "Microsoft.KeyVault/managedHsm/keys/wrap/action", UNWRAP_HSM]
      : ["Microsoft.KeyVault/vaults/keys/read", "Microsoft.KeyVault/vaults/keys/wrap/action", UNWRAP_VAULT],
    builtInRole: ref.managedHsm ? "Managed HSM Crypto User" : "Key Vault Crypto User",
    accessPolicy: ref.managedHsm ? undefined : { keys: ["get", "wrapKey", "unwrapKey"] },
    scope: keyScope,
  }));
  const summary = [
    `${input.output}: the function's managed identity may only unwrap (${keys.map((k) => k.ref.name).join(", ")}), at key scope`,
    ...keys.map(({ keyRef, ref }) =>
      ref.version
        ? `  ${keyRef}: the store pins version ${ref.version}; Azure RBAC cannot scope to a version, so the role covers every version of ${ref.name}`
        : `  ${keyRef}`,
    ),
    "  Key Vault wrap/unwrap take no AAD: the store context is bound inside the wrapped payload, not visible in Key Vault logs",
    "  operator (sealkit init/set/rekey): keys get + unwrapKey (+ wrapKey for Managed HSM AES keys); RSA keys wrap locally",
  ];
  return { provider: "azure-key-vault", runtime, operator, summary };
}
