/**
 * Leak canaries (issue #10): every user flow runs with a canary secret, and the canary, in
 * raw, base64, base64url, hex and URL-encoded form (test/support/canary.ts), must appear
 * nowhere it should not: CLI stdout/stderr (text and --json), error messages and details,
 * runtime events and SEALKIT_LOG=json lines, bundles, source maps, the manifest, the
 * generated .d.ts, and every file left in the project's temp dir. Where the value
 * legitimately is (`sealkit get`'s stdout, a file the user wrote it to) the test asserts it
 * IS there, which shows the scanner finds it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBase64 } from "@sealkit/envelope";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import sealkitVite from "@sealkit/plugin/vite";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leak, canaryForms, filesIn, leaksIn, leaksInDir, makeCanary } from "../support/canary.js";
import { type CliResult, repoRoot, sealkit } from "../support/cli.js";

const CANARY = makeCanary();
const OTHER = makeCanary("other");
const localKey = toBase64(Buffer.alloc(32, 0x42));
let dir: string;
/** Files where a value legitimately is: the user wrote them. */
const USER_FILES = ["input.txt", ".env"];
const outputs: { label: string; r: CliResult }[] = [];

const cli = (args: string[], input?: string, env: Record<string, string | undefined> = {}) => {
  const r = sealkit(args, { cwd: dir, env: { SEALKIT_LOCAL_KEY: localKey, ...env }, ...(input !== undefined ? { input } : {}) });
  outputs.push({ label: args.join(" "), r });
  return r;
};
const clean = (label: string, text: string): Leak[] => leaksIn(text, CANARY, label);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sealkit-leak-"));
  mkdirSync(join(dir, "node_modules/@sealkit"), { recursive: true });
  for (const p of ["runtime", "envelope"]) symlinkSync(join(repoRoot, "packages", p), join(dir, "node_modules/@sealkit", p));
  writeFileSync(join(dir, "tsconfig.json"), "{}\n");
  spawnSync("git", ["init", "-q"], { cwd: dir });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the canary helper", () => {
  it("finds each form, also inside a larger buffer at every alignment", () => {
    for (const f of canaryForms(CANARY)) expect(leaksIn(`xx${f.text}yy`, CANARY).length).toBeGreaterThan(0);
    for (const pad of ["", "a", "ab"]) {
      const buf = Buffer.from(`${pad}${CANARY}trailing`);
      expect(leaksIn(buf.toString("base64"), CANARY).map((l) => l.form)).toContain("base64");
      expect(leaksIn(buf.toString("base64url"), CANARY).map((l) => l.form)).toContain("base64url");
    }
    expect(leaksIn("nothing here", CANARY)).toEqual([]);
  });
});

describe("CLI flows, text and --json", () => {
  it("init, set (stdin and file), list, verify, rm, status, rekey, rotate, import, diff, exec never print the value", () => {
    for (const r of [
      cli(["init", "--provider", "local"]),
      cli(["set", "canary"], CANARY),
      cli(["set", "other", "--json"], OTHER),
    ])
      expect(r.status, r.stderr).toBe(0);
    writeFileSync(join(dir, "input.txt"), CANARY);
    expect(cli(["set", "from-file", "--from-file", "input.txt"]).status).toBe(0);
    expect(cli(["set", "from-env", "--from-env", "CANARY_VAR"], undefined, { CANARY_VAR: CANARY }).status).toBe(0);
    spawnSync("git", ["add", "sealkit.secrets.json"], { cwd: dir });
    spawnSync("git", ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "store"], { cwd: dir });
    writeFileSync(join(dir, ".env"), `IMPORTED_CANARY=${CANARY}\n`);
    for (const json of [[], ["--json"]]) {
      for (const args of [["list"], ["verify"], ["status"], ["rekey"], ["rotate"], ["diff", "HEAD"], ["import", ".env"]]) {
        const r = cli([...args, ...json]);
        expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      }
    }
    expect(cli(["rm", "other"]).status).toBe(0);
    expect(cli(["set", "other"], OTHER).status).toBe(0);
    expect(cli(["rm", "other", "--json"]).status).toBe(0);
    const ex = cli(["exec", "--only", "canary", "--", process.execPath, "-e", `process.exit(process.env.CANARY === ${JSON.stringify(CANARY)} ? 0 : 9)`]);
    expect(ex.status, ex.stderr).toBe(0);
    const leaks = outputs.flatMap(({ label, r }) => [...clean(`${label} stdout`, r.stdout), ...clean(`${label} stderr`, r.stderr)]);
    expect(leaks).toEqual([]);
    expect(outputs.length).toBeGreaterThan(20);
  });

  it("get prints the value on stdout only (the one place it belongs), text and --json", () => {
    for (const json of [[], ["--json"]]) {
      const r = cli(["get", "canary", ...json]);
      expect(r.status, r.stderr).toBe(0);
      expect(clean("get stdout", r.stdout).length, "the scanner finds the value where it is").toBeGreaterThan(0);
      expect(clean("get stderr", r.stderr)).toEqual([]);
    }
  });

  it("scan finds the planted value and reports where, never what", () => {
    mkdirSync(join(dir, "planted"), { recursive: true });
    const forms = canaryForms(CANARY);
    writeFileSync(join(dir, "planted/leak.txt"), `raw ${CANARY}\nb64 ${forms.find((f) => f.form === "base64")?.text}\n`);
    for (const json of [[], ["--json"]]) {
      const r = cli(["scan", "planted", ...json]);
      expect(r.status, r.stderr).toBe(11);
      expect(r.stdout + r.stderr).toContain("leak.txt");
      expect([...clean("scan stdout", r.stdout), ...clean("scan stderr", r.stderr)]).toEqual([]);
    }
    rmSync(join(dir, "planted"), { recursive: true });
  });

  it("error paths: wrong key, tampered envelope, unknown name, in text and --json", () => {
    const wrongKey = toBase64(Buffer.alloc(32, 0x07));
    const store = join(dir, "sealkit.secrets.json");
    const good = readFileSync(store, "utf8");
    const s = JSON.parse(good);
    const ct: string = s.secrets.canary.ciphertext ?? s.secrets.canary.ct;
    expect(typeof ct).toBe("string");
    const key = "ciphertext" in s.secrets.canary ? "ciphertext" : "ct";
    s.secrets.canary[key] = (ct[0] === "A" ? "B" : "A") + ct.slice(1);
    const cases: { label: string; args: string[]; env?: Record<string, string>; tamper?: boolean; code: string }[] = [
      { label: "wrong key", args: ["get", "canary"], env: { SEALKIT_LOCAL_KEY: wrongKey }, code: "E_KEY_PINNING" },
      { label: "wrong key verify", args: ["verify"], env: { SEALKIT_LOCAL_KEY: wrongKey }, code: "E_KEY_PINNING" },
      { label: "tampered", args: ["get", "canary"], tamper: true, code: "E_AUTH" },
      { label: "tampered verify", args: ["verify"], tamper: true, code: "E_AUTH" },
      { label: "tampered exec", args: ["exec", "--", process.execPath, "-e", "0"], tamper: true, code: "E_AUTH" },
      { label: "unknown name", args: ["get", "canaryy"], code: "E_NOT_FOUND" },
    ];
    const leaks: Leak[] = [];
    try {
      for (const c of cases) {
        writeFileSync(store, c.tamper ? JSON.stringify(s, null, 2) : good);
        for (const json of [[], ["--json"]]) {
          const r = cli([...c.args, ...json], undefined, c.env);
          expect(r.status, `${c.label}: ${r.stdout}${r.stderr}`).not.toBe(0);
          expect(r.stdout + r.stderr, c.label).toContain(c.code);
          leaks.push(...clean(`${c.label} stdout`, r.stdout), ...clean(`${c.label} stderr`, r.stderr));
        }
      }
    } finally {
      writeFileSync(store, good);
    }
    expect(leaks).toEqual([]);
  });
});

const HANDLER = `import { secret, configure } from "@sealkit/runtime";
export { configure, secret };
export const read = () => secret("canary");
`;

/** Runs a built bundle in a child with SEALKIT_LOG=json and an onEvent hook; prints a JSON report. */
const RUNNER = `const [file, which] = process.argv.slice(2);
const mod = await import(file);
const events = [];
mod.configure({ onEvent: (e) => events.push(e) });
const out = { events };
try {
  const v = which === "read" ? await mod.read() : await mod.secret(which);
  out.matches = v === process.env.EXPECT;
} catch (e) {
  out.error = { name: e?.name, code: e?.code, message: e?.message, details: e?.details, stack: e?.stack, cause: String(e?.cause) };
}
console.log(JSON.stringify(out));
`;

describe("plugin builds and runtime reads", () => {
  let esbuildOut: string;
  let viteOut: string;

  beforeAll(async () => {
    process.env.SEALKIT_LOCAL_KEY = localKey;
    await import("@sealkit/envelope/local");
    writeFileSync(join(dir, "handler.ts"), HANDLER);
    writeFileSync(join(dir, "run.mjs"), RUNNER);
    const r = await esbuild.build({
      entryPoints: [join(dir, "handler.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      sourcemap: true,
      sourcesContent: true,
      metafile: true,
      outfile: join(dir, "dist-esbuild/handler.mjs"),
      logLevel: "silent",
      plugins: [sealkitEsbuild({ root: dir, dts: true })],
    });
    expect(r.errors).toEqual([]);
    expect([...clean("esbuild warnings", JSON.stringify(r.warnings)), ...clean("metafile", JSON.stringify(r.metafile))]).toEqual([]);
    esbuildOut = join(dir, "dist-esbuild/handler.mjs");
    const { build } = await import("vite");
    const logged: string[] = [];
    const log = (m: string) => void logged.push(m);
    await build({
      configFile: false,
      root: dir,
      logLevel: "warn",
      customLogger: {
        info: log,
        warn: log,
        warnOnce: log,
        error: log,
        clearScreen() {},
        hasErrorLogged: () => false,
        hasWarned: false,
      },
      plugins: [sealkitVite({ root: dir, dts: true })],
      ssr: { noExternal: true },
      build: {
        ssr: join(dir, "handler.ts"),
        outDir: join(dir, "dist-vite"),
        emptyOutDir: true,
        sourcemap: true,
        minify: true,
        rollupOptions: { output: { entryFileNames: "handler.mjs" } },
      },
    });
    expect(clean("vite log", logged.join("\n"))).toEqual([]);
    viteOut = join(dir, "dist-vite/handler.mjs");
  }, 120_000);

  it("bundles, source maps, manifests and the .d.ts hold the envelope, never the value", () => {
    for (const out of [esbuildOut, viteOut]) {
      const code = readFileSync(out, "utf8");
      expect(code).toContain("sealkit-key:1:");
      expect(code).toMatch(/sealkit:1:[^"]+:canary:/);
      expect(readFileSync(`${out}.map`, "utf8")).toContain("sources");
      expect(readFileSync(join(out, "../sealkit-manifest.json"), "utf8")).toContain('"canary"');
    }
    expect(readFileSync(join(dir, "sealkit-env.d.ts"), "utf8")).toContain("canary");
    const scanned = filesIn(dir);
    for (const f of ["dist-esbuild/handler.mjs.map", "dist-vite/handler.mjs.map", "sealkit-env.d.ts", "sealkit.secrets.json"]) expect(scanned).toContain(f);
    expect(leaksInDir(dir, CANARY, USER_FILES)).toEqual([]);
    // The user's own files do hold it: the directory scan would have seen a leak.
    expect(leaksInDir(dir, CANARY).map((l) => l.where).sort()).toEqual([".env", "input.txt"]);
  });

  const runBundle = (file: string, which: string, env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(dir, "run.mjs"), file, which], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", SEALKIT_LOG: "json", SEALKIT_LOCAL_KEY: localKey, SEALKIT_DEV_FALLBACK: "0", EXPECT: CANARY, ...env },
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return { report: JSON.parse(r.stdout) as { matches?: boolean; error?: { code: string }; events: unknown[] }, stdout: r.stdout, stderr: r.stderr };
  };

  it("runtime reads with onEvent and SEALKIT_LOG=json: events and log lines hold no value", () => {
    for (const out of [esbuildOut, viteOut]) {
      const { report, stdout, stderr } = runBundle(out, "read");
      expect(report.matches, stdout + stderr).toBe(true);
      expect(report.events.map((e) => (e as { type: string }).type)).toContain("secret.read");
      expect(stderr).toContain('"source":"sealkit"');
      expect([...clean("events", stdout), ...clean("log", stderr)]).toEqual([]);
    }
  });

  it("runtime error paths: wrong key, tampered envelope in the bundle, unknown name", () => {
    const code = readFileSync(esbuildOut, "utf8");
    const env = /sealkit:1:[A-Za-z0-9_-]+:\d+:canary:[A-Za-z0-9_-]+:([A-Za-z0-9_-]+)/.exec(code);
    expect(env).not.toBeNull();
    const ct = (env as RegExpExecArray)[1] as string;
    const flipped = (ct[0] === "A" ? "B" : "A") + ct.slice(1);
    const tamperedFile = join(dir, "dist-esbuild/tampered.mjs");
    writeFileSync(tamperedFile, code.replace(ct, flipped));
    const cases: { label: string; file: string; which: string; env: Record<string, string>; code: string }[] = [
      { label: "wrong key", file: esbuildOut, which: "read", env: { SEALKIT_LOCAL_KEY: toBase64(Buffer.alloc(32, 9)) }, code: "E_KEY_PINNING" },
      { label: "tampered", file: tamperedFile, which: "read", env: {}, code: "E_AUTH" },
      { label: "unknown", file: esbuildOut, which: "not-in-bundle", env: {}, code: "E_NOT_FOUND" },
      { label: "unknown, dev fallback", file: esbuildOut, which: "canaryy", env: { SEALKIT_DEV_FALLBACK: "1" }, code: "E_NOT_FOUND" },
    ];
    for (const c of cases) {
      const { report, stdout, stderr } = runBundle(c.file, c.which, c.env);
      expect(report.error?.code, c.label).toBe(c.code);
      expect([...clean(`${c.label} report`, stdout), ...clean(`${c.label} log`, stderr)]).toEqual([]);
    }
    rmSync(tamperedFile);
  });
});
