/**
 * The lifecycle commands as users run them (the built CLI as a subprocess, local provider):
 * rekey, rotate, status, scan, import, exec, diff.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sealkit, tempDir } from "./support/cli.js";

const PW = "lifecycle-cli-pw-Xk29!";
let dir: string;
const run = (args: string[], input?: string) => sealkit(args, { cwd: dir, ...(input !== undefined ? { input } : {}) });
const json = (args: string[]) => {
  const r = run([...args, "--json"]);
  expect(r.status, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout);
};
const store = () => JSON.parse(readFileSync(join(dir, "sealkit.secrets.json"), "utf8"));
const git = (...args: string[]) =>
  execFileSync("git", ["-c", "user.email=t@example.test", "-c", "user.name=t", "-c", "commit.gpgsign=false", ...args], { cwd: dir, stdio: "pipe" });

beforeAll(() => {
  dir = tempDir("sealkit-life-cli-");
  expect(run(["init"]).status).toBe(0);
  expect(run(["set", "db-password"], PW).status).toBe(0);
});

describe("rekey and rotate", () => {
  it("rekey re-wraps (dry run first), rotate re-seals; values stay readable; no plaintext in output", () => {
    const s0 = store();
    const dry = json(["rekey", "--dry-run"]);
    expect(dry.steps).toEqual([expect.objectContaining({ action: "refresh", provider: "local" })]);
    expect(store()).toEqual(s0);
    const r = run(["rekey"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("re-wrapped local");
    const s1 = store();
    expect(s1.keys[0].wrapped).not.toBe(s0.keys[0].wrapped);
    expect(s1.secrets).toEqual(s0.secrets);
    const rot = json(["rotate"]);
    expect(rot).toMatchObject({ fromGeneration: 1, generation: 2, resealed: ["db-password"] });
    expect(store().secrets["db-password"].updatedAt).toBe(s0.secrets["db-password"].updatedAt);
    expect(run(["get", "db-password"]).stdout).toBe(PW);
    const last = run(["rekey", "--remove-key", s1.keys[0].keyRef]);
    expect(last.status).toBe(2);
    expect(last.stderr).toContain("refusing to remove the last master key");
    for (const out of [r.stdout, r.stderr, JSON.stringify(rot), last.stderr]) expect(out).not.toContain(PW);
  });
});

describe("status", () => {
  it("reports keys, generation and ages; --max-age exits 12 (E_STALE) only when stale", () => {
    const s = json(["status", "--since", "2000-01-01"]);
    expect(s).toMatchObject({ generation: 2, keys: [expect.objectContaining({ provider: "local" })], stale: [] });
    expect(s.unchangedSince.names).toEqual([]);
    expect(run(["status", "--max-age", "30d"]).status).toBe(0);
    // Age the data key and the wrap by editing the file (dates are plain JSON fields).
    const text = readFileSync(join(dir, "sealkit.secrets.json"), "utf8").replace(/"(dataKeyCreatedAt|createdAt)": ?"[^"]+"/g, '"$1":"2020-01-01T00:00:00.000Z"');
    const file = join(dir, "aged.json");
    writeFileSync(file, text);
    const stale = sealkit(["status", "--store", file, "--max-age", "30d"], { cwd: dir });
    expect(stale.status).toBe(12);
    expect(stale.stderr).toContain("E_STALE");
    expect(stale.stdout).toContain("sealkit rotate");
    const staleJson = sealkit(["status", "--store", file, "--max-age", "30d", "--json"], { cwd: dir });
    expect(staleJson.status).toBe(12);
    const doc = JSON.parse(staleJson.stdout); // one document: the error, carrying the status
    expect(doc.error.code).toBe("E_STALE");
    expect(doc.error.details.stale.map((x: { kind: string }) => x.kind)).toEqual(["data-key", "wrap"]);
    expect(doc.error.details.status.generation).toBe(2);
    const bad = run(["status", "--max-age", "soon"]);
    expect(bad.status).toBe(2);
  });
});

describe("scan", () => {
  it("exits 11 (E_LEAK) naming file and offset when a value is in the output, 0 when clean", () => {
    const out = join(dir, "dist");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "clean.js"), "export const x = 1;\n");
    expect(run(["scan", "dist"]).status).toBe(0);
    const map = JSON.stringify({ sourcesContent: [`const pw = '${PW}';`] });
    const hex = `const h = "${Buffer.from(PW).toString("hex")}";`;
    writeFileSync(join(out, "leak.js.map"), map);
    writeFileSync(join(out, "leak2.js"), hex);
    const r = run(["scan", "dist", "--json"]);
    expect(r.status).toBe(11);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe("E_LEAK");
    expect(doc.error.details.findings).toEqual([
      { file: "leak.js.map", offset: map.indexOf(PW), name: "db-password", encoding: "raw" },
      { file: "leak2.js", offset: hex.indexOf(Buffer.from(PW).toString("hex")), name: "db-password", encoding: "hex" },
    ]);
    expect(r.stdout + r.stderr).not.toContain(PW);
  });
});

describe("import, exec, diff", () => {
  it("import seals a .env in one write and reports names only", () => {
    writeFileSync(join(dir, ".env"), `# app\nAPI_KEY=ak-import-123456\nexport REGION="eu west"\nEMPTY=\n`);
    const r = json(["import", ".env"]);
    expect(r).toMatchObject({ created: ["API_KEY", "REGION"], updated: [], skipped: [{ name: "EMPTY", reason: "empty" }] });
    expect(JSON.stringify(r)).not.toContain("ak-import");
    expect(run(["get", "REGION"]).stdout).toBe("eu west");
  });

  it("exec runs a child with secrets in its env, warns on stderr, and passes the exit code", () => {
    const r = run(["exec", "--only", "db-password", "--", process.execPath, "-e", "process.exit(process.env.DB_PASSWORD === process.argv[1] ? 7 : 1)", PW]);
    expect(r.status).toBe(7);
    expect(r.stderr).toContain("development only");
    const all = run(["exec", "--", process.execPath, "-e", "console.log(Object.keys(process.env).filter(k=>/^(DB_PASSWORD|API_KEY|REGION)$/.test(k)).sort().join(','))"]);
    expect(all.stdout.trim()).toBe("API_KEY,DB_PASSWORD,REGION");
    expect(run(["exec"]).status).toBe(2);
  });

  it("diff lists names added, changed, re-sealed and removed since a git revision, without decrypting", () => {
    git("init", "-q");
    git("add", "sealkit.secrets.json");
    git("commit", "-q", "-m", "one");
    expect(run(["set", "new-one"], "new-value-1234").status).toBe(0);
    expect(run(["set", "API_KEY"], "ak-changed-654321").status).toBe(0);
    expect(run(["rm", "REGION"]).status).toBe(0);
    const d = json(["diff", "HEAD"]);
    expect(d).toMatchObject({ added: ["new-one"], changed: ["API_KEY"], removed: ["REGION"], resealed: [] });
    git("commit", "-q", "-am", "two");
    expect(run(["rotate"]).status).toBe(0);
    const r = json(["diff", "HEAD"]);
    expect(r).toMatchObject({ added: [], changed: [], removed: [], generation: { from: 2, to: 3 } });
    expect(r.resealed.sort()).toEqual(["API_KEY", "db-password", "new-one"]);
    expect(run(["diff", "no-such-rev"]).status).toBe(4);
  });
});
