/**
 * Key lifecycle on AWS KMS (the local KMS server, the real SDK, the built CLI): rekey after
 * automatic rotation uses ReEncrypt, moves and adds keys, rotate re-seals; an already-built
 * bundle keeps working while its old master key is enabled, fails with E_KEY_DISABLED once
 * it is disabled, and one re-keyed in place with `rekey --bundle` keeps working.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeyInfo, type KmsServer, awsChildEnv, startKmsServer } from "./support/aws-kms-server.js";
import { cliBin, repoRoot, tempDir } from "./support/cli.js";

const CREDS = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLELIFE00001", AWS_SECRET_ACCESS_KEY: "life/fake/secret/for/tests/00000000000000" };
const VALUE = "aws-lifecycle-value-Qm3x9";

let server: KmsServer;
let dir: string;

function awsEnv(): Record<string, string> {
  return awsChildEnv(server, dir, CREDS);
}

/** Async spawn: the KMS server lives in this process. */
function node(args: string[], input = ""): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: awsEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}
const cli = (args: string[], input = "") => node([cliBin, ...args], input);
const json = async (args: string[]) => {
  const r = await cli([...args, "--json"]);
  expect(r.status, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  server = await startKmsServer({ credentials: { [CREDS.AWS_ACCESS_KEY_ID]: CREDS.AWS_SECRET_ACCESS_KEY } });
  dir = tempDir("sealkit-aws-life-");
  mkdirSync(join(dir, "node_modules/@sealkit"), { recursive: true });
  for (const p of ["runtime", "envelope", "aws-kms"]) symlinkSync(join(repoRoot, "packages", p), join(dir, "node_modules/@sealkit", p));
  writeFileSync(
    join(dir, "handler.ts"),
    `import { secret } from "@sealkit/runtime";\nconst v = await secret("db-password");\nconsole.log(JSON.stringify({ ok: v === ${JSON.stringify(VALUE)} }));\n`,
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("key lifecycle on AWS KMS", () => {
  let a: KeyInfo;
  let b: KeyInfo;
  let west: KeyInfo;

  it("rekey after automatic rotation re-wraps on the server (ReEncrypt) and keeps values", async () => {
    a = server.createKey({ region: "us-east-1" });
    b = server.createKey({ region: "us-east-1" });
    west = server.createKey({ region: "eu-west-1" });
    expect((await cli(["init", "--provider", "aws-kms", "--key", a.arn])).status).toBe(0);
    expect((await cli(["set", "db-password"], VALUE)).status).toBe(0);
    const before = JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8"));

    server.rotateKey(a.arn);
    const calls = { ...server.calls };
    const r = await json(["rekey"]);
    expect(r.steps).toEqual([expect.objectContaining({ action: "refresh", method: "server-rewrap", keyRef: a.arn, newKeyRef: a.arn })]);
    expect((server.calls.ReEncrypt ?? 0) - (calls.ReEncrypt ?? 0)).toBe(1);
    expect((server.calls.Encrypt ?? 0) - (calls.Encrypt ?? 0)).toBe(0);
    const after = JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8"));
    expect(after.keys[0].wrapped).not.toBe(before.keys[0].wrapped);
    expect(after.secrets).toEqual(before.secrets);
    expect(after.generation).toBe(before.generation);
    expect((await cli(["get", "db-password"])).stdout).toBe(VALUE);
  });

  it("an old bundle works while its key is enabled, fails with E_KEY_DISABLED after; a re-keyed one keeps working", async () => {
    await build({
      absWorkingDir: dir,
      entryPoints: ["handler.ts"],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outdir: join(dir, "dist-old"),
      sourcemap: true,
      logLevel: "silent",
      // The AWS SDK's CommonJS parts call require(); ESM output needs one (the usual esbuild banner).
      banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
      plugins: [sealkitEsbuild({ root: dir, store: join(dir, "sealkit.secrets.json"), dts: false })],
    });
    cpSync(join(dir, "dist-old"), join(dir, "dist-new"), { recursive: true });
    const first = await node(["dist-old/handler.js"]);
    expect(first.stdout, first.stderr).toContain('{"ok":true}');

    // The store moves to key B (ReEncrypt across keys); bundles built before still name A.
    const moved = await json(["rekey", "--to-key", b.arn]);
    expect(moved.steps.map((s: { action: string; method?: string }) => [s.action, s.method ?? null])).toEqual([
      ["remove", null],
      ["add", "server-rewrap"],
    ]);
    expect((await node(["dist-old/handler.js"])).stdout).toContain('{"ok":true}');

    // Refresh one deployed artifact in place before A goes away.
    const rb = await json(["rekey", "--bundle", "dist-new", "--to-key", b.arn]);
    expect(rb.files).toEqual([expect.objectContaining({ file: "handler.js", pinsUpdated: true })]);
    expect(readFileSync(join(dir, "dist-new/handler.js"), "utf8")).not.toContain(a.arn);
    expect(JSON.parse(readFileSync(join(dir, "dist-new/sealkit-manifest.json"), "utf8")).outputs["handler.js"].stores[0].keys[0].keyRef).toBe(b.arn);

    server.disableKey(a.arn);
    const old = await node(["dist-old/handler.js"]);
    expect(old.status).not.toBe(0);
    expect(old.stderr).toContain("E_KEY_DISABLED");
    expect(old.stderr).not.toContain(VALUE);
    const fresh = await node(["dist-new/handler.js"]);
    expect(fresh.stderr).toBe("");
    expect(fresh.stdout).toContain('{"ok":true}');

    const status = await json(["status", "--bundle", "dist-new"]);
    expect(status.records[0].keys).toEqual([{ provider: "aws-kms", keyRef: b.arn }]);
  });

  it("add-key (a second region), remove-key, refuse to remove the last, rotate", async () => {
    const added = await json(["rekey", "--add-key", west.arn]);
    expect(added.keys.map((k: { keyRef: string }) => k.keyRef)).toEqual([b.arn, west.arn]);
    expect((await cli(["verify"])).status).toBe(0);
    await json(["rekey", "--remove-key", b.arn]);
    const last = await cli(["rekey", "--remove-key", west.arn]);
    expect(last.status).toBe(2);
    expect(last.stderr).toContain("last master key");
    const rot = await json(["rotate"]);
    expect(rot.generation).toBe(2);
    const s = JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8"));
    expect(s.keys.map((k: { keyRef: string; context: Record<string, string> }) => [k.keyRef, k.context["sealkit:generation"]])).toEqual([[west.arn, "2"]]);
    expect((await cli(["get", "db-password"])).stdout).toBe(VALUE);
  });
});
