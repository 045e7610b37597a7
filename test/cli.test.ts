import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sealkit, tempDir } from "./support/cli.js";

const CANARY = "canary-Zq8Vx3-plaintext-value";

function forms(v: string): string[] {
  const b = Buffer.from(v);
  return [v, b.toString("base64"), b.toString("base64url"), b.toString("hex"), encodeURIComponent(v)];
}

describe("sealkit CLI on the local provider (subprocess, real files)", () => {
  let dir: string;
  const run = (args: string[], input?: string, env?: Record<string, string | undefined>) =>
    sealkit(args, { cwd: dir, ...(input !== undefined ? { input } : {}), ...(env ? { env } : {}) });

  beforeAll(() => {
    dir = tempDir();
    const r = run(["init", "--provider", "local"]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("init wrote a 0600 key file, git-ignored it, and refuses to run twice", () => {
    expect(statSync(join(dir, ".sealkit/local.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toContain(".sealkit/");
    const again = run(["init"]);
    expect(again.status).toBe(3);
    expect(again.stderr).toContain("E_CONFIG");
    expect(again.stderr).toContain("refusing to overwrite");
  });

  it("set from stdin, env and file; get returns exactly the value", () => {
    expect(run(["set", "db-password"], `${CANARY}\n`).status).toBe(0);
    expect(run(["get", "db-password"]).stdout).toBe(CANARY);
    expect(run(["set", "from-env", "--from-env", "MY_VAR"], undefined, { MY_VAR: "env-value" }).status).toBe(0);
    expect(run(["get", "from-env"]).stdout).toBe("env-value");
    const bin = join(dir, "blob.bin");
    writeFileSync(bin, Buffer.from([0, 255, 10, 13, 10]));
    expect(run(["set", "blob", "--from-file", bin]).status).toBe(0);
    const out = sealkit(["get", "blob", "--json"], { cwd: dir });
    expect(out.status).toBe(0);
    expect(run(["set", "raw-nl", "--raw"], "a\n").status).toBe(0);
    expect(run(["get", "raw-nl"]).stdout).toBe("a\n");
  });

  it("the store file is diffable JSON with no plaintext in it", () => {
    const text = readFileSync(join(dir, "sealkit.secrets.json"), "utf8");
    for (const f of forms(CANARY)) expect(text).not.toContain(f);
    const lines = text.split("\n");
    expect(lines.filter((l) => l.includes('"nonce"')).length).toBe(Object.keys(JSON.parse(text).secrets).length);
  });

  it("list and verify, in text and --json, never print values", () => {
    const list = run(["list", "--json"]);
    expect(list.status).toBe(0);
    const j = JSON.parse(list.stdout);
    expect(j.secrets.map((s: { name: string }) => s.name)).toContain("db-password");
    expect(j.keys[0].provider).toBe("local");
    const v = run(["verify", "--json"]);
    expect(v.status).toBe(0);
    expect(JSON.parse(v.stdout).failed).toEqual([]);
    for (const out of [list, v, run(["list"]), run(["verify"])]) {
      for (const f of forms(CANARY)) expect(out.stdout + out.stderr).not.toContain(f);
    }
  });

  it("rm removes a secret", () => {
    expect(run(["set", "tmp"], "x").status).toBe(0);
    expect(run(["rm", "tmp"]).status).toBe(0);
    expect(run(["get", "tmp"]).status).toBe(4);
  });

  it("--help works on every command", () => {
    for (const c of ["init", "set", "get", "list", "rm", "verify"]) {
      const r = run([c, "--help"]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`sealkit ${c}`);
      expect(r.stdout).not.toContain("\u001b[");
    }
  });
});

describe("bad input gets a clear error and a non-zero exit, with nothing half-written", () => {
  const fresh = () => {
    const dir = tempDir();
    expect(sealkit(["init"], { cwd: dir }).status).toBe(0);
    expect(sealkit(["set", "db-password"], { cwd: dir, input: "v1" }).status).toBe(0);
    return dir;
  };
  const snapshot = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f !== ".sealkit")
      .map((f) => [f, readFileSync(join(dir, f), "utf8")]);

  it("a missing store names the file and how to create one", () => {
    const r = sealkit(["list"], { cwd: tempDir() });
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/E_NOT_FOUND: no store file at .*sealkit\.secrets\.json: create one with `sealkit init`/);
  });

  it("a corrupt store names the file (and the field)", () => {
    const dir = fresh();
    writeFileSync(join(dir, "sealkit.secrets.json"), "{ not json");
    let r = sealkit(["list"], { cwd: dir });
    expect(r.status).toBe(6);
    expect(r.stderr).toMatch(/E_FORMAT: .*sealkit\.secrets\.json: not valid JSON/);
    const good = JSON.parse(readFileSync(join(fresh(), "sealkit.secrets.json"), "utf8"));
    good.secrets["db-password"].nonce = "AAAA";
    writeFileSync(join(dir, "sealkit.secrets.json"), JSON.stringify(good));
    r = sealkit(["get", "db-password"], { cwd: dir });
    expect(r.status).toBe(6);
    expect(r.stderr).toContain("secrets.db-password.nonce");
  });

  it("an unknown format version says which one this Sealkit reads", () => {
    const dir = fresh();
    const s = JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8"));
    s.sealkit = 7;
    writeFileSync(join(dir, "sealkit.secrets.json"), JSON.stringify(s));
    const r = sealkit(["list"], { cwd: dir });
    expect(r.status).toBe(6);
    expect(r.stderr).toContain("unsupported store format version 7; this Sealkit reads version 1");
  });

  it("an invalid name lists the allowed characters; the store is unchanged", () => {
    const dir = fresh();
    const before = snapshot(dir);
    for (const name of ["bad name", "1abc", "a:b", "x".repeat(129), "ü"]) {
      const r = sealkit(["set", name], { cwd: dir, input: "v" });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("use a letter or _ first, then letters, digits, _, . or -");
    }
    expect(snapshot(dir)).toEqual(before);
  });

  it("empty stdin is refused unless --allow-empty", () => {
    const dir = fresh();
    const before = snapshot(dir);
    let r = sealkit(["set", "empty"], { cwd: dir, input: "" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--allow-empty");
    expect(snapshot(dir)).toEqual(before);
    r = sealkit(["set", "empty", "--allow-empty"], { cwd: dir, input: "" });
    expect(r.status).toBe(0);
    expect(sealkit(["get", "empty"], { cwd: dir }).stdout).toBe("");
  });

  it("a value on the command line is refused, saying why", () => {
    const dir = fresh();
    const r = sealkit(["set", "db-password", "hunter2"], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("shell history");
    expect(r.stderr).not.toContain("hunter2");
  });

  it("a missing local key says how to create or supply it", () => {
    const dir = fresh();
    const moved = join(dir, "elsewhere.key");
    writeFileSync(moved, readFileSync(join(dir, ".sealkit/local.key")), { mode: 0o600 });
    const r = sealkit(["get", "db-password"], { cwd: dir, env: { SEALKIT_LOCAL_KEY_FILE: join(dir, "missing.key") } });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("SEALKIT_LOCAL_KEY");
    expect(r.stderr).toContain("sealkit init --provider local");
    const ok = sealkit(["get", "db-password"], { cwd: dir, env: { SEALKIT_LOCAL_KEY_FILE: moved } });
    expect(ok.stdout).toBe("v1");
  });

  it("a wrong local key is reported as a key mismatch", () => {
    const dir = fresh();
    const r = sealkit(["get", "db-password"], { cwd: dir, env: { SEALKIT_LOCAL_KEY: Buffer.alloc(32, 7).toString("base64") } });
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("E_KEY_PINNING");
  });

  it("get of an unknown name suggests the closest one", () => {
    const dir = fresh();
    const r = sealkit(["get", "db-pasword"], { cwd: dir });
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('did you mean "db-password"?');
  });

  it("errors come as JSON with --json", () => {
    const r = sealkit(["get", "nope", "--json"], { cwd: fresh() });
    expect(r.status).toBe(4);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "E_NOT_FOUND", exitCode: 4 });
  });

  it("an unknown command or option is a usage error", () => {
    const r = sealkit(["frobnicate"], { cwd: tempDir() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown command");
  });

  it("verify names the values that do not open", () => {
    const dir = fresh();
    sealkit(["set", "other"], { cwd: dir, input: "v2" });
    const s = JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8"));
    s.secrets.other.ciphertext = s.secrets["db-password"].ciphertext;
    writeFileSync(join(dir, "sealkit.secrets.json"), JSON.stringify(s));
    const r = sealkit(["verify"], { cwd: dir });
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("1 secret(s) do not open: other");
  });
});
