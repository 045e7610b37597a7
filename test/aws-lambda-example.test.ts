
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KmsServer, awsChildEnv, startKmsServer } from "./support/aws-kms-server.js";
import { cliBin, repoRoot, runNode, tempDir } from "./support/cli.js";

const EXAMPLE = join(repoRoot, "examples/aws-lambda-esbuild");
const CREDS = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLELAMBDA001", AWS_SECRET_ACCESS_KEY: "lambda/fake/secret/for/tests/00000000000" };
const VALUES = { "db-password": "correct horse battery Xq7", "api-key": "ak-123456-Zp3" };

let server: KmsServer;
let dir: string;

function run(args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {}) {
  return runNode(args, { cwd: opts.cwd ?? dir, env: { ...awsChildEnv(server, dir, CREDS), ...opts.env }, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

beforeAll(async () => {
  server = await startKmsServer({ credentials: { [CREDS.AWS_ACCESS_KEY_ID]: CREDS.AWS_SECRET_ACCESS_KEY } });
  dir = tempDir("sealkit-aws-lambda-");
});
afterAll(() => server.close());

describe("examples/aws-lambda-esbuild with AWS KMS", () => {
  it("seals, builds, prints the policy, and runs the handler with one Decrypt", async () => {
    const east = server.createKey({ region: "us-east-1" });
    const west = server.createKey({ region: "eu-west-1", multiRegion: true });
    const alias = server.createAlias("alias/my-app", east.keyId);
    const store = join(dir, "sealkit.aws.secrets.json");
    const init = await run([cliBin, "init", "--store", store, "--provider", "aws-kms", "--key", alias, "--key", west.arn]);
    expect(init.status, init.stderr).toBe(0);
    for (const [name, value] of Object.entries(VALUES)) {
      const set = await run([cliBin, "set", "--store", store, name], { input: value });
      expect(set.status, set.stderr).toBe(0);
    }

    const out = join(dir, "dist");
    const build = await run(["build.mjs", "--store", store, "--outdir", out], { cwd: EXAMPLE });
    expect(build.status, build.stderr).toBe(0);
    const bundle = readFileSync(join(out, "handler.mjs"), "utf8");
    for (const v of Object.values(VALUES)) expect(bundle).not.toContain(v);
    // The SDK stays out of the bundle's static imports: it is loaded only when needed.
    expect(bundle).not.toMatch(/^import[^;]*["']@aws-sdk\//m);

    const policy = await run([cliBin, "policy", "--manifest", join(out, "sealkit-manifest.json"), "--json"]);
    expect(policy.status, policy.stderr).toBe(0);
    const [p] = JSON.parse(policy.stdout).outputs["handler.mjs"];
    expect(p.provider).toBe("aws-kms");
    expect([p.runtime.Resource].flat()).toEqual([east.arn, west.arn]);
    expect(p.secrets).toEqual(["api-key", "db-password"]);

    server.resetCounters();
    const invoke = await run([
      "--input-type=module",
      "-e",
      `const m = await import(${JSON.stringify(join(out, "handler.mjs"))});
       const r = await m.handler();
       const c = await m.config();
       console.log(JSON.stringify({ statusCode: r.statusCode, same: c["db-password"] === process.env.EXPECT_DB && c["api-key"] === process.env.EXPECT_API }));`,
    ], { env: { EXPECT_DB: VALUES["db-password"], EXPECT_API: VALUES["api-key"] } });
    expect(invoke.status, invoke.stderr).toBe(0);
    expect(JSON.parse(invoke.stdout)).toEqual({ statusCode: 200, same: true });
    expect(invoke.stdout + invoke.stderr).not.toContain(VALUES["db-password"]);
    expect(server.calls.Decrypt).toBe(1);
    expect(server.requests.map((r) => [r.op, r.client])).toEqual([["Decrypt", "other"]]);

    // First region down: the same bundle opens through the second region's key.
    server.resetCounters();
    server.setRegionDown("us-east-1", true);
    const failover = await run([
      "--input-type=module",
      "-e",
      `const m = await import(${JSON.stringify(join(out, "handler.mjs"))}); console.log((await m.handler()).statusCode);`,
    ], { env: { SEALKIT_BACKOFF: "1", SEALKIT_BACKOFF_CAP: "5" } });
    server.setRegionDown("us-east-1", false);
    expect(failover.status, failover.stderr).toBe(0);
    expect(failover.stdout.trim()).toBe("200");
    expect(server.requests.filter((r) => !r.error).map((r) => r.region)).toEqual(["eu-west-1"]);
  });
});
