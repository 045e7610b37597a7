/**
 * `rekey --bundle` on real esbuild and Vite output built with @sealkit/plugin: the bundle
 * still runs after re-keying (with the old master key gone), and its stack traces still map
 * to the original line and column through the (composed) source map.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { registerProvider, toBase64 } from "@sealkit/envelope";
import { generateLocalKey, localKeyRef, localProvider } from "@sealkit/envelope/local";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import sealkitVite from "@sealkit/plugin/vite";
import { findKeyRecords, initStore, rekeyBundle, setSecrets } from "@sealkit/store";
import { build as esbuild } from "esbuild";
import { build as viteBuild } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliBin, repoRoot } from "./support/cli.js";

const VALUE = "pw-bundle-rekey-Zq81!horse";
const keyA = generateLocalKey();
const keyB = generateLocalKey();

// Line numbers in handler.ts that the stack trace must point at.
const HANDLER = `import { secret } from "@sealkit/runtime";
import "./extra-key.js";

export async function main() {
  const v = await secret("db-password");
  console.log(JSON.stringify({ ok: v === process.env.EXPECT }));
  if (process.env.THROW) throw new Error("boom-from-handler");
}

await main();
`;
const THROW_LINE = 7;
// The Error's stack frame is where it is made: the \`new Error(...)\` expression.
const THROW_COL = HANDLER.split("\n")[THROW_LINE - 1]?.indexOf("new Error") as number;

// A second local master key under its own provider id, configured from the environment.
const EXTRA_KEY = `import { registerProvider } from "@sealkit/envelope";
import { localProvider } from "@sealkit/envelope/local";
const k = process.env.SEALKIT_TEST_KEY_B;
if (k) registerProvider({ ...localProvider({ key: k }), id: "local-b" });
`;

let project: string;
let store: string;

beforeAll(async () => {
  registerProvider(localProvider({ key: keyA }));
  registerProvider({ ...localProvider({ key: keyB }), id: "local-b" });
  project = mkdtempSync(join(tmpdir(), "sk-bundle-"));
  // The fixture resolves @sealkit/* to the workspace packages, as an installed project would.
  mkdirSync(join(project, "node_modules/@sealkit"), { recursive: true });
  for (const p of ["runtime", "envelope"]) symlinkSync(join(repoRoot, "packages", p), join(project, "node_modules/@sealkit", p));
  writeFileSync(join(project, "handler.ts"), HANDLER);
  writeFileSync(join(project, "extra-key.ts"), EXTRA_KEY);
  store = join(project, "sealkit.secrets.json");
  await initStore({ path: store, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(store, new Map([["db-password", new TextEncoder().encode(VALUE)]]));
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

function run(file: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ["--enable-source-maps", file], {
    cwd: project,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", EXPECT: VALUE, SEALKIT_STORE: join(project, "no-such-store.json"), ...env },
    timeout: 30_000,
  });
}

function jsOutput(dir: string): string {
  const f = readdirSync(dir).find((n) => /\.m?js$/.test(n));
  if (!f) throw new Error(`no JS output in ${dir}`);
  return join(dir, f);
}

/** The generated position of `new Error("boom-from-handler")` (minified: maybe \`throw Error(\`boom…\`)\`). */
function throwSite(code: string): { line: number; column: number } {
  const at = code.indexOf("boom-from-handler");
  let i = code.lastIndexOf("Error(", at);
  if (code.slice(i - 4, i) === "new ") i -= 4;
  const before = code.slice(0, i);
  return { line: before.split("\n").length, column: i - (before.lastIndexOf("\n") + 1) };
}

function mapped(mapText: string, pos: { line: number; column: number }) {
  return originalPositionFor(new TraceMap(mapText), pos);
}

async function exercise(dir: string) {
  const file = jsOutput(dir);
  const mapFile = `${file}.map`;
  const before = readFileSync(file, "utf8");
  const oldMap = readFileSync(mapFile, "utf8");
  // The record and the throw share one generated line (minified), so a length change of the
  // record moves the throw's column: the map must follow, or the trace is wrong.
  const recAt = before.indexOf("sealkit-key:1:");
  expect(recAt).toBeGreaterThan(-1);
  const site0 = throwSite(before);
  expect(before.slice(0, recAt).split("\n").length).toBe(site0.line);
  const original = mapped(oldMap, site0);
  expect(original).toMatchObject({ source: expect.stringMatching(/handler\.ts$/), line: THROW_LINE });

  const envA = { SEALKIT_LOCAL_KEY: toBase64(keyA) };
  expect(run(file, envA).stdout).toContain('{"ok":true}');
  const frame = (stderr: string) => /handler\.ts:\d+:\d+/.exec(stderr.slice(stderr.indexOf("boom-from-handler")))?.[0];
  const frame0 = frame(run(file, { ...envA, THROW: "1" }).stderr);
  expect(frame0).toMatch(new RegExp(`^handler\\.ts:${THROW_LINE}:`));

  // 1. Add a second master key: the record grows, pins and the source map follow.
  const added = await rekeyBundle(dir, { add: [{ provider: "local-b", keyRef: "local" }] });
  expect(added.files).toEqual([expect.objectContaining({ mapUpdated: true, pinsUpdated: true })]);
  const grown = throwSite(readFileSync(file, "utf8"));
  expect(grown.column - site0.column).toBeGreaterThan(100);
  expect(mapped(readFileSync(mapFile, "utf8"), grown)).toEqual(original);
  // Control: the old map at the new column points elsewhere, so the update mattered.
  expect(mapped(oldMap, grown)).not.toEqual(original);
  // 2. Remove the first one: the bundle now opens under the second key alone.
  await rekeyBundle(dir, { remove: [`local:${localKeyRef(keyA)}`] });
  const after = readFileSync(file, "utf8");
  expect(after).not.toBe(before);
  const [rec] = (await findKeyRecords(dir)).records;
  expect(rec?.record.keys.map((k) => k.provider)).toEqual(["local-b"]);
  expect(after).toContain(`"local-b:${localKeyRef(keyB)}"`);
  expect(after).not.toContain(`"local:${localKeyRef(keyA)}"`);

  const envB = { SEALKIT_LOCAL_KEY: toBase64(generateLocalKey()), SEALKIT_TEST_KEY_B: toBase64(keyB) };
  const ok = run(file, envB);
  expect(ok.stderr).toBe("");
  expect(ok.stdout).toContain('{"ok":true}');

  // Stack traces: node --enable-source-maps points at handler.ts:7 ...
  const thrown = run(file, { ...envB, THROW: "1" });
  expect(thrown.status).not.toBe(0);
  expect(thrown.stderr).toContain("boom-from-handler");
  expect(frame(thrown.stderr)).toBe(frame0);
  // ... and so does the map, read with trace-mapping, at the throw's new column.
  const site1 = throwSite(after);
  expect(site1.column).not.toBe(site0.column);
  const newMap = readFileSync(mapFile, "utf8");
  expect(mapped(newMap, site1)).toEqual(original);

  const manifest = JSON.parse(readFileSync(join(dir, "sealkit-manifest.json"), "utf8"));
  const outputs = manifest.outputs as Record<string, { stores: { keys: { provider: string }[] }[] }>;
  const keys = outputs[basename(file)]?.stores[0]?.keys;
  expect(keys?.map((k) => k.provider)).toEqual(["local-b"]);
}

describe("rekey --bundle on real bundler output", () => {
  it("esbuild (minified, external source map)", async () => {
    const outdir = join(project, "dist-esbuild");
    await esbuild({
      absWorkingDir: project,
      entryPoints: ["handler.ts"],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      minify: true,
      sourcemap: true,
      outdir,
      logLevel: "silent",
      plugins: [sealkitEsbuild({ root: project, store, dts: false })],
    });
    await exercise(outdir);
  });

  it("Vite (SSR build, minified, external source map)", async () => {
    const outDir = join(project, "dist-vite");
    await viteBuild({
      configFile: false,
      root: project,
      logLevel: "silent",
      plugins: [sealkitVite({ root: project, store, dts: false })],
      ssr: { noExternal: true },
      build: { ssr: "handler.ts", outDir, sourcemap: true, minify: true, target: "node20", emptyOutDir: true },
    });
    await exercise(outDir);
  });

  it("the CLI re-keys built output in place (same-length record: columns kept by construction)", async () => {
    const outdir = join(project, "dist-cli");
    await esbuild({
      absWorkingDir: project,
      entryPoints: ["handler.ts"],
      bundle: true,
      platform: "node",
      format: "esm",
      minify: true,
      sourcemap: true,
      outdir,
      logLevel: "silent",
      plugins: [sealkitEsbuild({ root: project, store, dts: false })],
    });
    const file = jsOutput(outdir);
    const before = readFileSync(file, "utf8");
    const mapBefore = readFileSync(`${file}.map`, "utf8");
    const env = { ...process.env, SEALKIT_LOCAL_KEY: toBase64(keyA), NO_COLOR: "1" };
    const dry = spawnSync(process.execPath, [cliBin, "rekey", "--bundle", outdir, "--dry-run", "--json"], { cwd: project, env, encoding: "utf8" });
    expect(dry.status, dry.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(before);
    const r = spawnSync(process.execPath, [cliBin, "rekey", "--bundle", outdir, "--json"], { cwd: project, env, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files).toEqual([expect.objectContaining({ mapUpdated: false })]);
    const after = readFileSync(file, "utf8");
    expect(after).not.toBe(before);
    expect(after.length).toBe(before.length);
    expect(readFileSync(`${file}.map`, "utf8")).toBe(mapBefore);
    expect(run(file, { SEALKIT_LOCAL_KEY: toBase64(keyA) }).stdout).toContain('{"ok":true}');
    const thrown = run(file, { SEALKIT_LOCAL_KEY: toBase64(keyA), THROW: "1" });
    expect(thrown.stderr).toMatch(new RegExp(`handler\\.ts:${THROW_LINE}:${THROW_COL + 1}\\b`));
  });
});

