/**
 * The Node build of @sealkit/runtime without a bundler (plain node, tsx, unit tests of user
 * code) reads the store file directly: a store made with @sealkit/store, read by a child
 * process that imports the built runtime.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { newDataKey, toBase64 } from "@sealkit/envelope";
import "@sealkit/envelope/local";
import { initStore, setSecret } from "@sealkit/store";

const DIST_NODE = join(dirname(fileURLToPath(import.meta.url)), "../packages/runtime/dist/node.js");
const tmp = mkdtempSync(join(tmpdir(), "sealkit-runtime-dev-"));

describe("the Node build without a bundler reads the store file", () => {
  const localKey = toBase64(newDataKey());
  const project = join(tmp, "project");
  const nested = join(project, "src", "deep");
  mkdirSync(nested, { recursive: true });
  const reader = join(tmp, "read.mjs");
  writeFileSync(
    reader,
    `import { secret } from ${JSON.stringify(pathToFileURL(DIST_NODE).href)};
const names = process.argv.slice(2);
try {
  const values = await Promise.all(names.map((n) => secret(n)));
  process.stdout.write(JSON.stringify(values));
} catch (e) {
  process.stdout.write(JSON.stringify({ code: e.code, message: e.message }));
}
`,
  );
  const runReader = (cwd: string, names: string[], env: Record<string, string> = {}) =>
    new Promise<any>((resolve, reject) => {
      const child = spawn(process.execPath, [reader, ...names], { cwd, env: { PATH: process.env.PATH ?? "", SEALKIT_LOCAL_KEY: localKey, ...env } });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("close", () => {
        try {
          resolve(JSON.parse(out));
        } catch {
          reject(new Error(`bad output: ${out} ${err}`));
        }
      });
    });

  beforeAll(async () => {
    process.env.SEALKIT_LOCAL_KEY = localKey;
    const path = join(project, "sealkit.secrets.json");
    await initStore({ path, masterKeys: [{ provider: "local", keyRef: "local" }] });
    await setSecret(path, "db-password", new TextEncoder().encode("s3cret-pw"));
    await setSecret(path, "api-token", new TextEncoder().encode("tok-123"));
    delete process.env.SEALKIT_LOCAL_KEY;
  });

  it("opens values from sealkit.secrets.json found above the working directory", async () => {
    expect(await runReader(nested, ["db-password", "api-token"])).toEqual(["s3cret-pw", "tok-123"]);
  });

  it("follows SEALKIT_STORE", async () => {
    expect(await runReader(tmp, ["api-token"], { SEALKIT_STORE: join(project, "sealkit.secrets.json") })).toEqual(["tok-123"]);
  });

  it("says how to fix a missing store", async () => {
    const r = await runReader(tmp, ["db-password"]);
    expect(r.code).toBe("E_NOT_FOUND");
    expect(r.message).toContain("SEALKIT_STORE");
    expect(r.message).toContain("@sealkit/plugin");
  });

  it("says how to fix a missing name, listing what the store has", async () => {
    const r = await runReader(project, ["db-pasword"]);
    expect(r.code).toBe("E_NOT_FOUND");
    expect(r.message).toContain("db-password");
    expect(r.message).toContain("sealkit set db-pasword");
  });

  it("says how to fix a missing master key", async () => {
    const r = await runReader(project, ["db-password"], { SEALKIT_LOCAL_KEY: "", SEALKIT_LOCAL_KEY_FILE: join(tmp, "nope.key") });
    expect(r.code).toBe("E_CONFIG");
    expect(r.message).toContain("SEALKIT_LOCAL_KEY");
  });

  it("is off under NODE_ENV=production unless asked for", async () => {
    const r = await runReader(project, ["db-password"], { NODE_ENV: "production" });
    expect(r.code).toBe("E_NOT_FOUND");
    expect(r.message).toContain("SEALKIT_DEV_FALLBACK=1");
    expect(await runReader(project, ["db-password"], { NODE_ENV: "production", SEALKIT_DEV_FALLBACK: "1" })).toEqual(["s3cret-pw"]);
  });
});
