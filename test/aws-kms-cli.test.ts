
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KmsServer, awsChildEnv, startKmsServer } from "./support/aws-kms-server.js";
import { repoRoot, sealkitAsync, tempDir } from "./support/cli.js";

const CREDS = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLECLI000001", AWS_SECRET_ACCESS_KEY: "cli/fake/secret/for/tests/000000000000000" };
const VALUE = "canary-aws-Kq2P9x-plaintext";

let server: KmsServer;
let dir: string;

/** Async spawn: the KMS server lives in this process, so the event loop must keep running. */
function cli(args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) {
  return sealkitAsync(args, { cwd: dir, env: { ...awsChildEnv(server, dir, CREDS), ...opts.env }, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

beforeAll(async () => {
  server = await startKmsServer({ credentials: { [CREDS.AWS_ACCESS_KEY_ID]: CREDS.AWS_SECRET_ACCESS_KEY } });
  dir = tempDir("sealkit-aws-cli-");
});
afterAll(() => server.close());

describe("sealkit CLI with --provider aws-kms (subprocess, local KMS server)", () => {
  let east: ReturnType<KmsServer["createKey"]>;
  let west: ReturnType<KmsServer["createKey"]>;
  let storeId: string;

  it("init resolves the alias, pins key ARNs in two regions; set/get/verify work and fail over", async () => {
    east = server.createKey({ region: "us-east-1" });
    west = server.createKey({ region: "eu-west-1" });
    const alias = server.createAlias("alias/sealkit-app", east.keyId);
    const init = await cli(["init", "--provider", "aws-kms", "--key", alias, "--key", west.arn, "--json"]);
    expect(init.status, init.stderr).toBe(0);
    const r = JSON.parse(init.stdout);
    storeId = r.storeId;
    expect(r.keys).toEqual([
      { provider: "aws-kms", keyRef: east.arn },
      { provider: "aws-kms", keyRef: west.arn },
    ]);
    const store = readFileSync(join(dir, "sealkit.secrets.json"), "utf8");
    expect(store).not.toContain("alias/");

    const set = await cli(["set", "db-password"], { input: `${VALUE}\n` });
    expect(set.status, set.stderr).toBe(0);
    expect((await cli(["set", "api-key"], { input: "api-key-value" })).status).toBe(0);
    const get = await cli(["get", "db-password"]);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe(VALUE);
    const verify = await cli(["verify", "--json"]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).keys.every((k: { ok: boolean }) => k.ok)).toBe(true);

    server.setRegionDown("us-east-1", true);
    try {
      const failover = await cli(["get", "db-password"]);
      expect(failover.status, failover.stderr).toBe(0);
      expect(failover.stdout).toBe(VALUE);
    } finally {
      server.setRegionDown("us-east-1", false);
    }
    for (const text of [readFileSync(join(dir, "sealkit.secrets.json"), "utf8"), set.stdout, set.stderr]) {
      expect(text).not.toContain(VALUE);
    }
  });

  it("rekey after a key rotation, and to another key in the same region, re-wraps with ReEncrypt", async () => {
    server.rotateKey(east.keyId);
    server.resetCounters();
    const refresh = await cli(["rekey", "--json"]);
    expect(refresh.status, refresh.stderr).toBe(0);
    // One ReEncrypt per master key; the data key never leaves KMS on this path.
    expect(server.calls.ReEncrypt).toBe(2);
    const next = server.createKey({ region: "us-east-1" });
    server.resetCounters();
    const move = await cli(["rekey", "--remove-key", east.arn, "--add-key", next.arn, "--json"]);
    expect(move.status, move.stderr).toBe(0);
    const keys = JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8")).keys.map((k: { keyRef: string }) => k.keyRef);
    expect(keys.sort()).toEqual([west.arn, next.arn].sort());
    const get = await cli(["get", "db-password"]);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout).toBe(VALUE);
    // Put the store back on `east` for the tests below.
    expect((await cli(["rekey", "--to-key", east.arn, "--to-key", west.arn])).status).toBe(0);
  });

  it("a disabled key is E_KEY_DISABLED (exit 9) when no other key opens the store", async () => {
    server.disableKey(east.keyId);
    server.disableKey(west.keyId);
    try {
      const r = await cli(["get", "db-password"]);
      expect(r.status).toBe(9);
      expect(r.stderr).toContain("E_KEY_DISABLED");
      expect(r.stderr).not.toContain(VALUE);
    } finally {
      server.enableKey(east.keyId);
      server.enableKey(west.keyId);
    }
  });

  it("bad input: malformed ARN, unknown alias, missing credentials, region mismatch", async () => {
    const other = tempDir("sealkit-aws-bad-");
    const at = ["--store", join(other, "s.json")];
    const malformed = await cli(["init", "--provider", "aws-kms", "--key", "arn:aws:kms:us-east-1:123:key/nope", ...at]);
    expect(malformed.status).toBe(3);
    expect(malformed.stderr).toContain("E_CONFIG");
    expect(malformed.stderr).toContain("malformed AWS KMS key reference");

    const alias = await cli(["init", "--provider", "aws-kms", "--key", "arn:aws:kms:us-east-1:111122223333:alias/missing", ...at]);
    expect(alias.status).toBe(4);
    expect(alias.stderr).toContain("no KMS alias arn:aws:kms:us-east-1:111122223333:alias/missing");

    const creds = await cli(["init", "--provider", "aws-kms", "--key", east.arn, ...at], {
      env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: "ci-deployer" },
    });
    expect(creds.status).toBe(3);
    expect(creds.stderr).toContain("E_CREDENTIALS");
    expect(creds.stderr).toContain("AWS_ACCESS_KEY_ID");
    expect(creds.stderr).toContain('profile "ci-deployer"');

    const region = await cli(["init", "--provider", "aws-kms", "--key", west.arn, "--region", "us-east-1", ...at]);
    expect(region.status).toBe(3);
    expect(region.stderr).toContain("region mismatch");
  });

  it("policy: per function, kms:Decrypt on exactly the keys of what it uses, with the store condition", async () => {
    // A real two-function build with the plugin (esbuild), so the manifest is what users get.
    const src = join(dir, "src");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "api.ts"), `import { secret } from "@sealkit/runtime";\nexport const handler = async () => (await secret("db-password")).length;\n`);
    writeFileSync(join(src, "cron.ts"), `import { secret } from "@sealkit/runtime";\nexport const handler = async () => (await secret("api-key")).length;\n`);
    writeFileSync(join(src, "health.ts"), "export const handler = async () => 200;\n");
    const esbuild = await import("esbuild");
    const { default: sealkitPlugin } = await import(join(repoRoot, "packages/plugin/dist/esbuild.js"));
    await esbuild.build({
      entryPoints: ["api", "cron", "health"].map((n) => join(src, `${n}.ts`)),
      outdir: join(dir, "dist"),
      outExtension: { ".js": ".mjs" },
      bundle: true,
      format: "esm",
      platform: "node",
      external: ["@sealkit/*"],
      absWorkingDir: dir,
      logLevel: "silent",
      plugins: [sealkitPlugin({ root: dir, dts: false })],
    });
    const manifest = JSON.parse(readFileSync(join(dir, "dist/sealkit-manifest.json"), "utf8"));
    const r = await cli(["policy", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc.outputs).sort()).toEqual(["api.mjs", "cron.mjs", "health.mjs"]);
    for (const [output, entry] of Object.entries(manifest.outputs) as [string, { stores: { keys: { keyRef: string }[]; secrets: string[] }[] }][]) {
      const policies = doc.outputs[output];
      expect(policies.length).toBe(entry.stores.length);
      for (const [i, p] of policies.entries()) {
        const used = entry.stores[i] as { keys: { keyRef: string }[]; secrets: string[] };
        expect(p.provider).toBe("aws-kms");
        expect(p.runtime.Action).toBe("kms:Decrypt");
        expect([p.runtime.Resource].flat().sort()).toEqual(used.keys.map((k) => k.keyRef).sort());
        expect(p.runtime.Condition).toEqual({ StringEquals: { "kms:EncryptionContext:sealkit:store": storeId } });
        expect(p.secrets).toEqual(used.secrets);
        expect(p.keyPolicy.Action).toBe("kms:Decrypt");
        expect(p.operator[0].Action).toEqual(["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"]);
      }
    }
    expect(doc.outputs["api.mjs"][0].secrets).toEqual(["db-password"]);
    expect(doc.outputs["cron.mjs"][0].secrets).toEqual(["api-key"]);
    expect(doc.outputs["health.mjs"]).toEqual([]);
    expect([doc.outputs["api.mjs"][0].runtime.Resource].flat().sort()).toEqual([east.arn, west.arn].sort());

    const human = await cli(["policy", "--output", "api.mjs"]);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toContain("api.mjs");
    expect(human.stdout).toContain("kms:Decrypt on 2 key(s) in us-east-1, eu-west-1");
    expect(human.stdout).not.toContain("cron.mjs");

    const missing = await cli(["policy", "--manifest", "nope.json"]);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain("build with @sealkit/plugin first");
  });
});
