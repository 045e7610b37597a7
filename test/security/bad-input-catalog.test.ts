/**
 * The catalog of bad inputs (issue #10): one table of bad inputs to the CLI, the plugin's
 * options, store files, environment variables and provider settings, each with the error
 * code and a fragment of the message it must get. The same table is the "Catalog of bad
 * inputs" section of docs/errors.md: the test fails when the two differ, and
 * `UPDATE_ERRORS_DOC=1 npx vitest run test/security/bad-input-catalog.test.ts` rewrites
 * the section from the table. (test/cli.test.ts covers the basic CLI misuses.)
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseKmsArn } from "@sealkit/aws-kms";
import { parseKeyRef as parseAzureKeyRef } from "@sealkit/azure-key-vault";
import { SealkitError, parseStore, toBase64 } from "@sealkit/envelope";
import { parseKeyName } from "@sealkit/gcp-kms";
import { parseKeyRef as parsePkcs11KeyRef } from "@sealkit/pkcs11";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import { configure } from "@sealkit/runtime";
import { initStore, setSecrets, withStoreLock } from "@sealkit/store";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliBin, repoRoot, sealkit } from "../support/cli.js";

const DOC = join(repoRoot, "docs/errors.md");
const BEGIN = "<!-- bad-input catalog: generated from test/security/bad-input-catalog.test.ts -->";
const END = "<!-- end of bad-input catalog -->";
const localKey = toBase64(Buffer.alloc(32, 0x24));
let dir: string;

interface Outcome {
  code: string;
  message: string;
}
interface Row {
  area: "CLI" | "plugin option" | "store file" | "environment" | "runtime option" | "provider setting";
  /** What is wrong, as the docs show it. */
  input: string;
  code: string;
  /** A fragment the message must contain (shown in the docs). */
  says: string;
  run: () => Outcome | Promise<Outcome>;
}

/** The CLI in the prepared project; the code is read from `--json` output and stderr must agree. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Outcome {
  const e = { SEALKIT_LOCAL_KEY: localKey, ...env };
  const text = sealkit(args, { cwd: dir, env: e });
  const json = sealkit([...args, "--json"], { cwd: dir, env: e });
  let code = "(none)";
  try {
    code = JSON.parse(json.stdout).error.code;
  } catch {
    // a usage error has no JSON form; the text form decides below
  }
  const m = /sealkit: error (E_[A-Z_]+): (.*)/s.exec(text.stderr);
  if (m?.[1] !== code) code = `${code} (text: ${m?.[1]})`;
  return { code, message: m?.[2] ?? text.stderr };
}
/** The CLI as an async subprocess (the test process's event loop keeps running). */
function cliAsync(args: string[], input: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliBin, ...args], { cwd: dir, env: { PATH: process.env.PATH, SEALKIT_LOCAL_KEY: localKey, NO_COLOR: "1" } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", () => {
      const m = /sealkit: error (E_[A-Z_]+): (.*)/s.exec(stderr);
      resolve({ code: m?.[1] ?? "(none)", message: m?.[2] ?? stderr });
    });
    child.stdin.end(input);
  });
}
async function fn(f: () => unknown): Promise<Outcome> {
  try {
    await f();
  } catch (e) {
    if (e instanceof SealkitError) return { code: e.code, message: e.message };
    return { code: (e as Error).name, message: (e as Error).message };
  }
  return { code: "(no error)", message: "" };
}
function storeWith(mutate: (s: Record<string, unknown>) => void): Promise<Outcome> {
  const s = JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8"));
  mutate(s);
  return fn(() => parseStore(JSON.stringify(s), "sealkit.secrets.json"));
}
const first = (s: Record<string, unknown>) => (s.keys as Record<string, unknown>[])[0] as Record<string, unknown>;
const secretOf = (s: Record<string, unknown>) => (s.secrets as Record<string, Record<string, unknown>>).db as Record<string, unknown>;
/** An esbuild build of a one-secret handler with these plugin options. */
async function build(options: unknown): Promise<Outcome> {
  try {
    await esbuild.build({
      entryPoints: [join(dir, "handler.ts")],
      bundle: true,
      platform: "node",
      write: false,
      logLevel: "silent",
      external: ["@sealkit/*"],
      plugins: [sealkitEsbuild(options as never)],
    });
  } catch (e) {
    if (e instanceof SealkitError) return { code: e.code, message: e.message };
    const err = (e as esbuild.BuildFailure).errors?.[0];
    const detail = err?.detail as { code?: string } | undefined;
    return { code: detail?.code ?? "(unknown)", message: err?.text ?? String(e) };
  }
  return { code: "(no error)", message: "" };
}
function runtimeEnv(name: string, value: string): Promise<Outcome> {
  return fn(() => {
    process.env[name] = value;
    try {
      configure({});
    } finally {
      delete process.env[name];
    }
  });
}

const ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ROWS: Row[] = [
  // CLI
  { area: "CLI", input: "`init --provider nope` (no such provider package)", code: "E_CONFIG", says: 'unknown key provider "nope"', run: () => cli(["init", "--provider", "nope", "--store", "n.json"]) },
  { area: "CLI", input: "`init --provider aws-kms` without `--key`", code: "E_INPUT", says: "needs --key", run: () => cli(["init", "--provider", "aws-kms", "--store", "n.json"]) },
  { area: "CLI", input: "`init --provider aws-kms --key not-an-arn`", code: "E_CONFIG", says: "not a KMS ARN", run: () => cli(["init", "--provider", "aws-kms", "--key", "not-an-arn", "--store", "n.json"]) },
  { area: "CLI", input: "`init --provider gcp-kms --key projects/p/keyRings/r` (not a key name)", code: "E_CONFIG", says: "is not a Cloud KMS key name", run: () => cli(["init", "--provider", "gcp-kms", "--key", "projects/p/keyRings/r", "--store", "n.json"]) },
  { area: "CLI", input: "`init --provider azure-key-vault --key http://…` (not https)", code: "E_CONFIG", says: "over https only", run: () => cli(["init", "--provider", "azure-key-vault", "--key", "http://v.vault.azure.net/keys/k", "--store", "n.json"]) },
  { area: "CLI", input: "`init --provider pkcs11 --key pkcs11:token=t` (no object)", code: "E_CONFIG", says: "object=<label> is missing", run: () => cli(["init", "--provider", "pkcs11", "--key", "pkcs11:token=t", "--store", "n.json"]) },
  { area: "CLI", input: "`init --provider local --key …` (local takes no key)", code: "E_INPUT", says: "--provider local takes no --key", run: () => cli(["init", "--provider", "local", "--key", "x", "--store", "n.json"]) },
  { area: "CLI", input: "`init --store` names a directory", code: "E_INPUT", says: "is a directory: give the path of the store file", run: () => cli(["init", "--store", "a-directory"]) },
  { area: "CLI", input: "`init --store` in a directory that does not exist", code: "E_NOT_FOUND", says: "does not exist (create it first)", run: () => cli(["init", "--store", "no-such-dir/x.json"]) },
  { area: "CLI", input: "`--store` names a directory", code: "E_IO", says: "EISDIR", run: () => cli(["list", "--store", "a-directory"]) },
  { area: "CLI", input: "`--store` under a path that is a file", code: "E_IO", says: "ENOTDIR", run: () => cli(["list", "--store", "a-file/x.json"]) },
  { area: "CLI", input: "`--store` names a file that is not JSON", code: "E_FORMAT", says: "not valid JSON", run: () => cli(["list", "--store", "a-file"]) },
  { area: "CLI", input: "`--store` names a file that does not exist", code: "E_NOT_FOUND", says: "no store file at", run: () => cli(["list", "--store", "missing.json"]) },
  { area: "CLI", input: "`rekey --to-key` with no value", code: "E_INPUT", says: "--to-key needs a value", run: () => cli(["rekey", "--to-key"]) },
  { area: "CLI", input: "`status --max-age banana`", code: "E_INPUT", says: 'invalid duration "banana"', run: () => cli(["status", "--max-age", "banana"]) },
  { area: "CLI", input: "`set x --from-file` of a missing file", code: "E_INPUT", says: "cannot read --from-file", run: () => cli(["set", "x", "--from-file", "no-such-file"]) },
  { area: "CLI", input: "`set x --from-env` of an unset variable", code: "E_INPUT", says: "environment variable NOPE_NOT_SET is not set", run: () => cli(["set", "x", "--from-env", "NOPE_NOT_SET"]) },
  { area: "CLI", input: "`policy` without a build manifest", code: "E_NOT_FOUND", says: "no build manifest at", run: () => cli(["policy", "--manifest", "none.json"]) },
  {
    area: "CLI",
    input: "the store's lock is held by a live sealkit process",
    code: "E_LOCKED",
    says: "is locked by another sealkit process",
    // The holder must keep refreshing its lock, so the CLI runs asynchronously here.
    run: () => withStoreLock(join(dir, "sealkit.secrets.json"), () => cliAsync(["set", "locked-out"], "v")),
  },
  // Environment
  { area: "environment", input: "`SEALKIT_LOCAL_KEY` not base64", code: "E_CONFIG", says: "SEALKIT_LOCAL_KEY is not the base64 of 32 bytes", run: () => cli(["get", "db"], { SEALKIT_LOCAL_KEY: "not base64!" }) },
  { area: "environment", input: "`SEALKIT_LOCAL_KEY` of 16 bytes", code: "E_CONFIG", says: "SEALKIT_LOCAL_KEY is not the base64 of 32 bytes", run: () => cli(["get", "db"], { SEALKIT_LOCAL_KEY: toBase64(Buffer.alloc(16, 1)) }) },
  { area: "environment", input: "`SEALKIT_LOCAL_KEY` of another key", code: "E_KEY_PINNING", says: "", run: () => cli(["get", "db"], { SEALKIT_LOCAL_KEY: toBase64(Buffer.alloc(32, 1)) }) },
  {
    area: "environment",
    input: "`SEALKIT_LOCAL_KEY_FILE` names a missing file",
    code: "E_CONFIG",
    says: "no local master key",
    run: () => cli(["get", "db"], { SEALKIT_LOCAL_KEY: undefined, SEALKIT_LOCAL_KEY_FILE: join(dir, "no.key") }),
  },
  {
    area: "environment",
    input: "`SEALKIT_LOCAL_KEY_FILE` readable by others (mode 0644)",
    code: "E_CONFIG",
    says: "is readable by others (mode 644)",
    run: () => cli(["get", "db"], { SEALKIT_LOCAL_KEY: undefined, SEALKIT_LOCAL_KEY_FILE: join(dir, "open.key") }),
  },
  {
    area: "environment",
    input: "`SEALKIT_LOCAL_KEY_FILE` that does not hold 32 bytes",
    code: "E_CONFIG",
    says: "is not the base64 of 32 bytes",
    run: () => cli(["get", "db"], { SEALKIT_LOCAL_KEY: undefined, SEALKIT_LOCAL_KEY_FILE: join(dir, "short.key") }),
  },
  { area: "environment", input: "`SEALKIT_TTL=5 minutes`", code: "E_CONFIG", says: "SEALKIT_TTL must be a duration like 300 (s), 5m or 1500ms", run: () => runtimeEnv("SEALKIT_TTL", "5 minutes") },
  { area: "environment", input: "`SEALKIT_TTL=0`", code: "E_CONFIG", says: "SEALKIT_TTL must be a number ≥ 1", run: () => runtimeEnv("SEALKIT_TTL", "0") },
  { area: "environment", input: "`SEALKIT_TIMEOUT=-1`", code: "E_CONFIG", says: "SEALKIT_TIMEOUT must be a duration", run: () => runtimeEnv("SEALKIT_TIMEOUT", "-1") },
  { area: "environment", input: "`SEALKIT_STALE_IF_ERROR=soon`", code: "E_CONFIG", says: "SEALKIT_STALE_IF_ERROR must be a duration", run: () => runtimeEnv("SEALKIT_STALE_IF_ERROR", "soon") },
  { area: "environment", input: "`SEALKIT_BACKOFF=1d` (no day unit)", code: "E_CONFIG", says: "SEALKIT_BACKOFF must be a duration", run: () => runtimeEnv("SEALKIT_BACKOFF", "1d") },
  { area: "environment", input: "`SEALKIT_ATTEMPTS=2.5`", code: "E_CONFIG", says: "SEALKIT_ATTEMPTS must be a whole number", run: () => runtimeEnv("SEALKIT_ATTEMPTS", "2.5") },
  { area: "environment", input: "`SEALKIT_LOG=yes`", code: "E_CONFIG", says: 'SEALKIT_LOG must be "json" or "off"', run: () => runtimeEnv("SEALKIT_LOG", "yes") },
  // Runtime options in code
  { area: "runtime option", input: "`configure({ ttl: \"5m\" })` (code takes milliseconds)", code: "E_CONFIG", says: "ttl must be a number ≥ 1, got 5m", run: () => fn(() => configure({ ttl: "5m" as never })) },
  { area: "runtime option", input: "`configure({ attempts: 0 })`", code: "E_CONFIG", says: "attempts must be a whole number ≥ 1", run: () => fn(() => configure({ attempts: 0 })) },
  { area: "runtime option", input: "`configure({ onEvent: \"x\" })`", code: "E_CONFIG", says: "onEvent must be a function", run: () => fn(() => configure({ onEvent: "x" as never })) },
  { area: "runtime option", input: "`configure({ tll: 1 })` (unknown option)", code: "TypeError", says: "options.tll: unknown option", run: () => fn(() => configure({ tll: 1 } as never)) },
  // Plugin options
  { area: "plugin option", input: "`store: 5`", code: "E_BUILD", says: "`store` must be a path or an object", run: () => build({ root: dir, dts: false, store: 5 }) },
  {
    area: "plugin option",
    input: "`store: { production: … }` with no entry for the environment",
    code: "E_BUILD",
    says: 'no store for environment "staging"',
    run: () => build({ root: dir, dts: false, env: "staging", store: { production: "p.json" } }),
  },
  { area: "plugin option", input: "`store` names a missing file", code: "E_BUILD", says: "no store file at", run: () => build({ root: dir, dts: false, store: "missing.json" }) },
  { area: "plugin option", input: "`store` names a directory", code: "E_BUILD", says: "EISDIR", run: () => build({ root: dir, dts: false, store: "a-directory" }) },
  { area: "plugin option", input: "`store` names a file that is not JSON", code: "E_BUILD", says: "not valid JSON", run: () => build({ root: dir, dts: false, store: "a-file" }) },
  // Store files
  { area: "store file", input: "`sealkit: 2` (a newer format)", code: "E_FORMAT", says: "unsupported store format version 2", run: () => storeWith((s) => void (s.sealkit = 2)) },
  { area: "store file", input: "`sealkit` missing", code: "E_FORMAT", says: "this is not a Sealkit store file", run: () => storeWith((s) => void delete s.sealkit) },
  { area: "store file", input: "`storeId` not a store id", code: "E_FORMAT", says: "storeId is not a valid store id", run: () => storeWith((s) => void (s.storeId = "x!")) },
  { area: "store file", input: '`generation: "1"` (a string)', code: "E_FORMAT", says: "generation is not a positive integer", run: () => storeWith((s) => void (s.generation = "1")) },
  { area: "store file", input: "`createdAt` not an ISO-8601 time", code: "E_FORMAT", says: "createdAt is not an ISO-8601 UTC time", run: () => storeWith((s) => void (s.createdAt = "yesterday")) },
  { area: "store file", input: "`keys: []`", code: "E_FORMAT", says: "keys must list at least one wrapped data key", run: () => storeWith((s) => void (s.keys = [])) },
  { area: "store file", input: '`keys[0].provider: ""`', code: "E_FORMAT", says: "keys[0] .provider is invalid", run: () => storeWith((s) => void (first(s).provider = "")) },
  { area: "store file", input: "`keys[0].wrapped` not base64", code: "E_FORMAT", says: "keys[0] .wrapped is not base64", run: () => storeWith((s) => void (first(s).wrapped = "***")) },
  { area: "store file", input: "`keys[0].context` missing", code: "E_FORMAT", says: "keys[0] .context is not an object", run: () => storeWith((s) => void delete first(s).context) },
  { area: "store file", input: "`secrets: []`", code: "E_FORMAT", says: "secrets is not an object", run: () => storeWith((s) => void (s.secrets = [])) },
  { area: "store file", input: "a secret named `9 bad`", code: "E_FORMAT", says: "has an invalid secret name", run: () => storeWith((s) => void ((s.secrets as Record<string, unknown>)["9 bad"] = secretOf(s))) },
  { area: "store file", input: "a `nonce` of 3 bytes", code: "E_FORMAT", says: "nonce is not 12 bytes of base64", run: () => storeWith((s) => void (secretOf(s).nonce = "AAAA")) },
  { area: "store file", input: "a `ciphertext` shorter than the tag", code: "E_FORMAT", says: "ciphertext is not base64 of at least 16 bytes", run: () => storeWith((s) => void (secretOf(s).ciphertext = "AAAA")) },
  { area: "store file", input: "an `updatedAt` not an ISO-8601 time", code: "E_FORMAT", says: "updatedAt is not an ISO-8601 UTC time", run: () => storeWith((s) => void (secretOf(s).updatedAt = "x")) },
  { area: "store file", input: "a JSON array instead of an object", code: "E_FORMAT", says: "(top level) is not a JSON object", run: () => fn(() => parseStore("[]", "s.json")) },
  // Provider settings
  { area: "provider setting", input: "AWS: a bare key id (no region)", code: "E_CONFIG", says: "a bare key id or alias names no region", run: () => fn(() => parseKmsArn("1234abcd-12ab-34cd-56ef-1234567890ab")) },
  { area: "provider setting", input: "AWS: `…:key/abc` (not a key id)", code: "E_CONFIG", says: '"abc" is not a key id', run: () => fn(() => parseKmsArn(ARN.replace(/key\/.*/, "key/abc"))) },
  { area: "provider setting", input: "AWS: `alias/aws/…` (an AWS managed alias)", code: "E_CONFIG", says: "is not a customer alias name", run: () => fn(() => parseKmsArn(ARN.replace(/key\/.*/, "alias/aws/s3"))) },
  { area: "provider setting", input: "GCP: a key ring instead of a key", code: "E_CONFIG", says: "is not a Cloud KMS key name", run: () => fn(() => parseKeyName("projects/p/locations/l/keyRings/r")) },
  { area: "provider setting", input: "Azure: a secret URL instead of a key URL", code: "E_CONFIG", says: "the path must be /keys/<name>[/<version>]", run: () => fn(() => parseAzureKeyRef("https://v.vault.azure.net/secrets/k")) },
  { area: "provider setting", input: "Azure: an http:// key URL", code: "E_CONFIG", says: "over https only", run: () => fn(() => parseAzureKeyRef("http://v.vault.azure.net/keys/k")) },
  { area: "provider setting", input: "PKCS#11: a URI without `object=`", code: "E_CONFIG", says: "object=<label> is missing", run: () => fn(() => parsePkcs11KeyRef("pkcs11:token=t")) },
];

/** The docs section, generated from ROWS. */
function section(): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const lines = [
    BEGIN,
    "| where | bad input | code | the message says |",
    "| --- | --- | --- | --- |",
    ...ROWS.map((r) => `| ${r.area} | ${esc(r.input)} | \`${r.code}\` | ${r.says ? `\`${esc(r.says).replace(/`/g, "'")}\`` : "(the fixed `E_KEY_PINNING` message)"} |`),
    END,
  ];
  return lines.join("\n");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sealkit-bad-input-"));
  process.env.SEALKIT_LOCAL_KEY = localKey;
  await import("@sealkit/envelope/local");
  const store = join(dir, "sealkit.secrets.json");
  await initStore({ path: store, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(store, new Map([["db", new TextEncoder().encode("bad-input-value")]]));
  mkdirSync(join(dir, "a-directory"));
  writeFileSync(join(dir, "a-file"), "");
  writeFileSync(join(dir, "open.key"), localKey, { mode: 0o644 });
  writeFileSync(join(dir, "short.key"), "c2hvcnQ=", { mode: 0o600 });
  writeFileSync(join(dir, "handler.ts"), 'import { secret } from "@sealkit/runtime";\nexport const h = () => secret("db");\n');
});
afterAll(() => {
  delete process.env.SEALKIT_LOCAL_KEY;
  rmSync(dir, { recursive: true, force: true });
});

describe("catalog of bad inputs", () => {
  it.each(ROWS.map((r) => [`${r.area}: ${r.input}`, r] as const))("%s", async (_, row) => {
    const got = await row.run();
    expect(got.code, got.message).toBe(row.code);
    expect(got.message).toContain(row.says);
  }, 30_000);

  it("covers every area with several rows", () => {
    const per = new Map<string, number>();
    for (const r of ROWS) per.set(r.area, (per.get(r.area) ?? 0) + 1);
    expect([...per.keys()].sort()).toEqual(["CLI", "environment", "plugin option", "provider setting", "runtime option", "store file"]);
    for (const n of per.values()) expect(n).toBeGreaterThanOrEqual(4);
  });

  it("docs/errors.md carries exactly this table (UPDATE_ERRORS_DOC=1 rewrites it)", () => {
    let doc = readFileSync(DOC, "utf8");
    const at = doc.indexOf(BEGIN);
    const end = doc.indexOf(END);
    if (process.env.UPDATE_ERRORS_DOC === "1") {
      doc =
        at >= 0
          ? doc.slice(0, at) + section() + doc.slice(end + END.length)
          : `${doc.trimEnd()}\n\n## Catalog of bad inputs\n\nWhat each kind of bad input gets. The table is generated from the test that checks every row.\n\n${section()}\n`;
      writeFileSync(DOC, doc);
    }
    const text = readFileSync(DOC, "utf8");
    expect(text).toContain("## Catalog of bad inputs");
    expect(text.slice(text.indexOf(BEGIN), text.indexOf(END) + END.length)).toBe(section());
  });
});
