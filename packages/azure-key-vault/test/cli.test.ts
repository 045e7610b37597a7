
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cliBin, sealkitAsync, tempDir } from "../../../test/support/cli.js";
import { type KeyVaultServer, startKeyVaultServer } from "./support/azure-key-vault-server.js";

let server: KeyVaultServer;

/** Async (see `sealkitAsync`): the Key Vault server lives in this process, so spawnSync would starve it. */
function sealkit(args: string[], opts: { cwd: string; input?: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  const env = { ...process.env, SEALKIT_STORE: undefined, NO_COLOR: "1", ...opts.env };
  return sealkitAsync(args, { cwd: opts.cwd, env, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}
let env: Record<string, string | undefined>;

beforeAll(async () => {
  if (!existsSync(cliBin)) throw new Error(`${cliBin} is missing: run \`pnpm build\` first`);
  server = await startKeyVaultServer();
  server.admin.createKey("cli", "RSA-HSM");
  server.admin.createKey("cli-aes", "oct-HSM");
  const clean = Object.fromEntries(Object.keys(process.env).filter((k) => /^(AZURE_|IDENTITY_|MSI_)/.test(k)).map((k) => [k, undefined]));
  env = { ...clean, ...server.identityEnv, SEALKIT_AZURE_CHALLENGE_RESOURCE_VERIFICATION: "off" };
});
afterAll(() => server.close());

describe("sealkit CLI with --provider azure-key-vault", () => {
  it("init says the RSA wrap is local; set and get round-trip; values never reach the output or the file", async () => {
    const cwd = tempDir();
    const init = await sealkit(["init", "--provider", "azure-key-vault", "--key", `${server.url}/keys/cli`], { cwd, env });
    expect(init.stderr + init.stdout).toMatch(/wrapped locally with its public key/);
    expect(init.status, init.stderr).toBe(0);
    const v = server.admin.latestVersion("cli");
    expect(readFileSync(join(cwd, "sealkit.secrets.json"), "utf8")).toContain(`${server.url}/keys/cli/${v}`);
    const set = await sealkit(["set", "db-password"], { cwd, env, input: "hunter2-azure" });
    expect(set.status, set.stderr).toBe(0);
    const get = await sealkit(["get", "db-password"], { cwd, env });
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe("hunter2-azure");
    expect(readFileSync(join(cwd, "sealkit.secrets.json"), "utf8")).not.toContain("hunter2-azure");
    expect(set.stdout + set.stderr + init.stdout + init.stderr).not.toContain("hunter2-azure");
    // Tokens came from the managed-identity endpoint.
    expect(server.calls.some((c) => c.op === "token" && c.status === 200)).toBe(true);
  });

  it("init on a Managed HSM AES key says the wrap is in the HSM", async () => {
    const cwd = tempDir();
    const init = await sealkit(["init", "--provider", "azure-key-vault", "--key", `${server.url}/keys/cli-aes`], { cwd, env });
    expect(init.status, init.stderr).toBe(0);
    expect(init.stderr + init.stdout).toMatch(/A256KW/);
  });

  it("clear errors: a bad key URL, a missing key, no credential, an untrusted certificate", async () => {
    const cwd = tempDir();
    const bad = await sealkit(["init", "--provider", "azure-key-vault", "--key", "my-key"], { cwd, env });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/E_CONFIG.*keys\/<key-name>/);
    const missing = await sealkit(["init", "--provider", "azure-key-vault", "--key", `${server.url}/keys/absent`], { cwd, env });
    expect(missing.stderr).toMatch(/E_NOT_FOUND/);
    const noCred = await sealkit(["init", "--provider", "azure-key-vault", "--key", `${server.url}/keys/cli`], {
      cwd,
      env: { ...env, IDENTITY_ENDPOINT: undefined, IDENTITY_HEADER: undefined, AZURE_TOKEN_CREDENTIALS: "EnvironmentCredential" },
    });
    expect(noCred.stderr).toMatch(/E_CREDENTIALS.*AZURE_CLIENT_ID.*managed identity/);
    const untrusted = await sealkit(["init", "--provider", "azure-key-vault", "--key", `${server.url}/keys/cli`], {
      cwd,
      env: { ...env, NODE_EXTRA_CA_CERTS: undefined },
    });
    expect(untrusted.stderr).toMatch(/E_UNAVAILABLE.*(TLS|certificate)/);
  });
});
