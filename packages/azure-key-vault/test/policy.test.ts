import { describe, expect, it } from "vitest";
import { policy } from "@sealkit/azure-key-vault";

const v = "0123456789abcdef0123456789abcdef";
const input = (keyRef: string) => ({
  output: "handler.mjs",
  storeId: "AAAAAAAAAAAAAAAAAAAAAA",
  generation: 1,
  keys: [{ provider: "azure-key-vault", keyRef, context: { "sealkit:store": "AAAAAAAAAAAAAAAAAAAAAA", "sealkit:generation": "1" } }],
  secrets: ["api-key", "db-password"],
});

describe("azure-key-vault policy hook", () => {
  it("the runtime gets one role with only keys/unwrap/action, assigned at the key's scope", () => {
    const out = policy(input(`https://my-vault.vault.azure.net/keys/app/${v}`));
    const [r] = out.runtime as {
      roleDefinition: { DataActions: string[]; Actions: string[]; AssignableScopes: string[] };
      roleAssignment: { scope: string };
      accessPolicyAlternative: { permissions: { keys: string[] } };
      pinnedVersion: string;
    }[];
    expect(r?.roleDefinition.DataActions).toEqual(["Microsoft.KeyVault/vaults/keys/unwrap/action"]);
    expect(r?.roleDefinition.Actions).toEqual([]);
    expect(r?.roleAssignment.scope).toMatch(/\/providers\/Microsoft\.KeyVault\/vaults\/my-vault\/keys\/app$/);
    expect(r?.accessPolicyAlternative.permissions.keys).toEqual(["unwrapKey"]);
    expect(r?.pinnedVersion).toBe(v);
    expect(out.summary.join("\n")).toMatch(/cannot scope to a version/);
  });

  it("Managed HSM keys get the HSM's local RBAC action and scope", () => {
    const out = policy(input(`https://my-hsm.managedhsm.azure.net/keys/aes/${v}`));
    const [r] = out.runtime as { roleDefinition: { DataActions: string[] }; roleAssignment: { scope: string }; commands: string[] }[];
    expect(r?.roleDefinition.DataActions).toEqual(["Microsoft.KeyVault/managedHsm/keys/unwrap/action"]);
    expect(r?.roleAssignment.scope).toBe("/keys/aes");
    expect(r?.commands.join("\n")).toContain("--hsm-name my-hsm");
  });

  it("a malformed key reference is E_CONFIG", () => {
    expect(() => policy(input("arn:aws:kms:eu-west-1:1:key/x"))).toThrow(/key identifier/);
  });
});
