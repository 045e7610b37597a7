
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeyVaultServer, startKeyVaultServer } from "../packages/azure-key-vault/test/support/azure-key-vault-server.js";
import { type CliResult, sealkitAsync, tempDir } from "./support/cli.js";

let server: KeyVaultServer;
let env: Record<string, string | undefined>;

function cli(args: string[], cwd: string, input = ""): Promise<CliResult> {
  return sealkitAsync(args, { cwd, env, input });
}

beforeAll(async () => {
  server = await startKeyVaultServer();
  server.admin.createKey("life", "RSA-HSM");
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AZURE_|IDENTITY_|MSI_|SEALKIT_)/.test(k)));
  env = { ...clean, ...server.identityEnv, SEALKIT_AZURE_CHALLENGE_RESOURCE_VERIFICATION: "off", NO_COLOR: "1" };
});
afterAll(() => server.close());

describe("sealkit rekey on Azure Key Vault", () => {
  it("moves the data key to the newest key version; the old version can then be disabled", async () => {
    const cwd = tempDir("sealkit-akv-rekey-");
    expect((await cli(["init", "--provider", "azure-key-vault", "--key", `${server.url}/keys/life`], cwd)).status).toBe(0);
    expect((await cli(["set", "db-password"], cwd, "azure-rekey-value-1")).status).toBe(0);
    const v1 = server.admin.latestVersion("life");
    server.admin.rotateKey("life");
    const v2 = server.admin.latestVersion("life");
    expect(v2).not.toBe(v1);
    const r = await cli(["rekey", "--json"], cwd);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.steps[0]).toMatchObject({ action: "refresh", keyRef: `${server.url}/keys/life/${v1}`, newKeyRef: `${server.url}/keys/life/${v2}` });
    expect(JSON.parse(readFileSync(join(cwd, "sealkit.secrets.json"), "utf8")).keys[0].keyRef).toBe(`${server.url}/keys/life/${v2}`);
    server.admin.disableKey("life", v1);
    const get = await cli(["get", "db-password"], cwd);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe("azure-rekey-value-1");
  });
});
