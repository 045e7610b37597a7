
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealkitAsync, tempDir } from "./support/cli.js";
import { type GcpKmsServer, startGcpKmsServer } from "./support/gcp-kms-server.js";

const VALUE = "canary-gcp-Zr7Qm2-plaintext";
const SA = "sealkit-operator@sealkit-test.iam.gserviceaccount.com";

let server: GcpKmsServer;
let dir: string;
let keyFile: string;

function cli(args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) {
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    CLOUDSDK_CONFIG: join(dir, "no-gcloud"),
    METADATA_SERVER_DETECTION: "none",
    NO_COLOR: "1",
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    SEALKIT_GCP_KMS_ENDPOINT: server.endpoint,
    ...opts.env,
  };
  return sealkitAsync(args, { cwd: dir, env, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

beforeAll(async () => {
  server = await startGcpKmsServer();
  dir = tempDir("sealkit-gcp-cli-");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  keyFile = join(dir, "sa.json");
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: "service_account",
      project_id: "sealkit-test",
      private_key_id: "test-key-1",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: SA,
      client_id: "1",
      token_uri: `${server.endpoint}/token`,
    }),
    { mode: 0o600 },
  );
});
afterAll(() => server.close());

describe("sealkit CLI with --provider gcp-kms (subprocess, local Cloud KMS)", () => {
  const key = "projects/sealkit-test/locations/europe-west1/keyRings/cli/cryptoKeys/app";

  it("init checks the key and pins the version; set/get/verify work with GOOGLE_APPLICATION_CREDENTIALS", async () => {
    server.admin.createKey(key);
    const init = await cli(["init", "--provider", "gcp-kms", "--key", key, "--json"]);
    expect(init.status, init.stderr).toBe(0);
    const r = JSON.parse(init.stdout);
    expect(r.keys).toEqual([{ provider: "gcp-kms", keyRef: `${key}/cryptoKeyVersions/1` }]);
    expect(r.notes.join("\n")).toContain("roles/cloudkms.cryptoKeyDecrypter");
    // The service account's own JWT reached the server: the credentials came from the env var.
    expect(server.calls.at(-1)?.principal).toBe(SA);

    // SDK request logging on: Sealkit's client stays silent, so no data key reaches stderr.
    const set = await cli(["set", "db-password"], { input: `${VALUE}\n`, env: { GOOGLE_SDK_NODE_LOGGING: "kms" } });
    expect(set.status, set.stderr).toBe(0);
    expect(set.stderr).not.toMatch(/plaintext|encrypt request|decrypt response/);
    const get = await cli(["get", "db-password"]);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe(VALUE);
    expect((await cli(["verify"])).status).toBe(0);
    const store = readFileSync(join(dir, "sealkit.secrets.json"), "utf8");
    expect(store).not.toContain(VALUE);
    expect(store).toContain(`${key}/cryptoKeyVersions/1`);
  });

  it("clear failures: bad key name (3), no credentials (3), permission denied (9), disabled version (9)", async () => {
    const bad = await cli(["init", "--provider", "gcp-kms", "--key", "projects/x/cryptoKeys/y", "--store", "other.json"]);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain("E_CONFIG");
    expect(bad.stderr).toContain("projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY");

    const noCreds = await cli(["get", "db-password"], { env: { GOOGLE_APPLICATION_CREDENTIALS: undefined } });
    expect(noCreds.status).toBe(3);
    expect(noCreds.stderr).toContain("E_CREDENTIALS");
    expect(noCreds.stderr).toContain("GOOGLE_APPLICATION_CREDENTIALS");

    server.admin.deny(key, SA);
    const denied = await cli(["get", "db-password"]);
    server.admin.allow(key);
    expect(denied.status).toBe(9);
    expect(denied.stderr).toContain("E_ACCESS_DENIED");

    server.admin.disableVersion(`${key}/cryptoKeyVersions/1`);
    const disabled = await cli(["get", "db-password"]);
    server.admin.enableVersion(`${key}/cryptoKeyVersions/1`);
    expect(disabled.status).toBe(9);
    expect(disabled.stderr).toContain("E_KEY_DISABLED");
    for (const r of [bad, noCreds, denied, disabled]) expect(r.stderr + r.stdout).not.toContain(VALUE);
  });
});
