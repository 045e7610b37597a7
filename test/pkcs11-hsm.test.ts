/**
 * The PKCS#11 path end to end, against a real SoftHSM2 token in a temp dir:
 * - the built `sealkit` CLI as a subprocess: hsm create-key, init, set, get, rekey --to-key,
 *   and the exit codes of a wrong PIN and a missing key;
 * - a bundle built with esbuild and @sealkit/plugin, run in a fresh Node process (a cold
 *   start), opening 20 secrets through the HSM with one token decryption.
 * Needs `pnpm build` (dist/ of every package), as `pnpm test` does first.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { cliBin, repoRoot, sealkit, tempDir } from "./support/cli.js";
import { type TestToken, createToken, describeHsm } from "./support/softhsm.js";

const VALUE = "canary-hsm-Zq81vTt-plaintext";

function built(): void {
  for (const f of [cliBin, join(repoRoot, "packages/pkcs11/dist/index.js"), join(repoRoot, "packages/plugin/dist/esbuild.js")]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`pnpm build\` first`);
  }
}

describeHsm("sealkit with --provider pkcs11 (subprocess, SoftHSM2)", () => {
  let token: TestToken;
  let dir: string;
  const run = (args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) =>
    sealkit(args, { cwd: dir, ...(opts.input !== undefined ? { input: opts.input } : {}), env: { ...token.env, ...opts.env } });

  beforeEach(() => {
    built();
    token = createToken({ label: "ci-token" });
    dir = tempDir("sealkit-pkcs11-");
  });
  afterEach(() => token.cleanup());

  it("hsm create-key, init, set, get and rekey --to-key; wrong PIN and missing key give their exit codes", () => {
    const moduleArgs = ["--module", token.module];
    // The module path and PIN come from the flags/env here, not from the store.
    const env = { SEALKIT_PKCS11_MODULE: undefined };
    let r = run(["hsm", "create-key", ...moduleArgs, "--token", "ci-token", "--label", "master-a", "--json"], { env });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({ keyRef: "pkcs11:token=ci-token;object=master-a", restrictedToGcm: true });
    r = run(["hsm", "create-key", ...moduleArgs, "--token", "ci-token", "--label", "master-a"], { env });
    expect(r.status).toBe(3); // E_CONFIG: the label exists; never replaced
    expect(r.stderr).toContain("already holds an object labelled");

    r = run(["init", "--provider", "pkcs11", ...moduleArgs, "--token", "ci-token", "--key", "master-a"], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("pkcs11:token=ci-token;object=master-a");
    expect(run(["set", "db-password"], { input: VALUE }).status).toBe(0);
    r = run(["get", "db-password"]);
    expect(r.stdout).toBe(VALUE);

    const storeText = readFileSync(join(dir, "sealkit.secrets.json"), "utf8");
    expect(storeText).not.toContain(VALUE);
    expect(storeText).not.toContain(token.pin);

    // Rekey to another key label in the same token: the lifecycle command, through the contract.
    expect(run(["hsm", "create-key", "--token", "ci-token", "--label", "master-b"]).status).toBe(0);
    r = run(["rekey", "--to-key", "pkcs11:token=ci-token;object=master-b"]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "sealkit.secrets.json"), "utf8")).toContain("object=master-b");
    expect(run(["get", "db-password"]).stdout).toBe(VALUE);

    r = run(["get", "db-password", "--json"], { env: { SEALKIT_PKCS11_PIN: "0000-wrong" } });
    expect(r.status).toBe(9); // E_ACCESS_DENIED
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "E_ACCESS_DENIED", details: { pkcs11: "CKR_PIN_INCORRECT" } });
    expect(r.stdout + r.stderr).not.toContain("0000-wrong");

    r = run(["init", "--store", "other.json", "--provider", "pkcs11", "--token", "ci-token", "--key", "no-such-key"]);
    expect(r.status).toBe(4); // E_NOT_FOUND
    expect(r.stderr).toContain("sealkit hsm create-key");
    r = run(["init", "--store", "other.json", "--provider", "pkcs11", "--token", "no-such-token", "--key", "master-a"]);
    expect(r.status).toBe(3); // E_CONFIG
    expect(r.stderr).toContain('no token labelled "no-such-token"');
  });

  it("a bundle built with esbuild and @sealkit/plugin opens 20 secrets at a cold start with one token decryption", async () => {
    expect(run(["hsm", "create-key", "--token", "ci-token", "--label", "master-a"]).status).toBe(0);
    expect(run(["init", "--provider", "pkcs11", "--token", "ci-token", "--key", "master-a"]).status).toBe(0);
    const names = Array.from({ length: 20 }, (_, i) => `secret-${i}`);
    for (const n of names) expect(run(["set", n], { input: `${VALUE}-${n}` }).status).toBe(0);

    writeFileSync(
      join(dir, "handler.mjs"),
      `import { secret } from "@sealkit/runtime";\n` +
        `export async function handler() {\n` +
        names.map((n) => `  const v${n.slice(7)} = secret("${n}");\n`).join("") +
        `  return Promise.all([${names.map((n) => `v${n.slice(7)}`).join(", ")}]);\n}\n`,
    );
    const esbuild = await import("esbuild");
    const { default: sealkitPlugin } = await import(join(repoRoot, "packages/plugin/dist/esbuild.js"));
    await esbuild.build({
      entryPoints: [join(dir, "handler.mjs")],
      outfile: join(dir, "dist/handler.mjs"),
      bundle: true,
      format: "esm",
      platform: "node",
      // The provider (with its native binding) stays a package the function installs.
      external: ["@sealkit/pkcs11", "pkcs11js"],
      nodePaths: [join(repoRoot, "packages/cli/node_modules")],
      plugins: [sealkitPlugin({ root: dir, store: join(dir, "sealkit.secrets.json"), dts: false })],
      logLevel: "silent",
    });
    const bundle = readFileSync(join(dir, "dist/handler.mjs"), "utf8");
    expect(bundle).not.toContain(VALUE);
    expect(bundle).toContain("sealkit-key:1:");

    // A fresh process: count token operations by wrapping the provider's module API.
    writeFileSync(
      join(dir, "cold-start.mjs"),
      `import { registerProvider } from "@sealkit/envelope";\n` +
        `import { pkcs11Provider } from "@sealkit/pkcs11";\n` +
        `const counts = {};\n` +
        `const instrument = (api) => new Proxy(api, { get(t, p) { const v = t[p]; return typeof v === "function" ? (...a) => { counts[p] = (counts[p] ?? 0) + 1; return v.apply(t, a); } : v; } });\n` +
        `registerProvider(pkcs11Provider({ instrument }));\n` +
        `const { handler } = await import("./dist/handler.mjs");\n` +
        `const values = await handler();\n` +
        `process.stdout.write(JSON.stringify({ ok: values.every((v, i) => v === ${JSON.stringify(VALUE)} + "-secret-" + i), counts }));\n`,
    );
    const child = spawnSync(process.execPath, ["--import", join(repoRoot, "scripts/demo/resolve-workspace.mjs"), join(dir, "cold-start.mjs")], {
      cwd: dir,
      env: { ...process.env, ...token.env, SEALKIT_STORE: join(dir, "no-store-here.json") },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const { ok, counts } = JSON.parse(child.stdout);
    expect(ok).toBe(true);
    expect(counts.C_OpenSession).toBe(1);
    expect(counts.C_Login).toBe(1);
    expect(counts.C_DecryptAsync).toBe(1);
    expect(counts.C_EncryptAsync).toBeUndefined();
  });
});
