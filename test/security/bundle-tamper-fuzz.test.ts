/**
 * Tamper fuzzing of envelopes embedded in bundles (issue #10): a small handler is built with
 * the esbuild plugin (runtime and local provider bundled in), then fast-check mutates the
 * `sealkit:1:` envelopes and the `sealkit-key:1:` record inside the built file (replace,
 * insert, delete, truncate, extend, swap; characters that keep the JS string literal
 * valid). Each mutated bundle is evaluated as a fresh module (its own runtime) in a child
 * process (`_bundle-case-runner.mjs`), and every read must end in a SealkitError or in
 * exactly the original value; never another value, never a crash. Plus: the record's key
 * reference changed to a key the build did not pin, and a whole record for an attacker's
 * key, both E_KEY_PINNING. FC_SEED=<seed> replays a run; the seed is printed on failure.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeKeyRecord, encodeKeyRecord, newDataKey, toBase64 } from "@sealkit/envelope";
import { localProvider } from "@sealkit/envelope/local";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import { initStore, setSecrets } from "@sealkit/store";
import * as esbuild from "esbuild";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const CASES = 400;
const VALUES: Record<string, string> = { "db-password": "bundle-fuzz-pw-7Qx!", "api-token": "bundle-fuzz-tok-0042" };
const NAMES = Object.keys(VALUES);
const localKey = Buffer.alloc(32, 0x5c);
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sealkit-bundle-fuzz-"));
  mkdirSync(join(dir, "node_modules/@sealkit"), { recursive: true });
  for (const p of ["runtime", "envelope"]) symlinkSync(join(repoRoot, "packages", p), join(dir, "node_modules/@sealkit", p));
  process.env.SEALKIT_LOCAL_KEY = toBase64(localKey);
  await import("@sealkit/envelope/local");
  const store = join(dir, "sealkit.secrets.json");
  await initStore({ path: store, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(store, new Map(Object.entries(VALUES).map(([k, v]) => [k, new TextEncoder().encode(v)])));
  writeFileSync(
    join(dir, "handler.ts"),
    'import { secret } from "@sealkit/runtime";\nexport { secret };\nexport const names = () => [secret("db-password"), secret("api-token")];\n',
  );
  const r = await esbuild.build({
    entryPoints: [join(dir, "handler.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    write: false,
    outfile: join(dir, "out/handler.mjs"),
    logLevel: "silent",
    plugins: [sealkitEsbuild({ root: dir, dts: false, manifest: false })],
  });
  bundle = r.outputFiles?.find((f) => f.path.endsWith(".mjs"))?.text ?? "";
});
afterAll(() => {
  delete process.env.SEALKIT_LOCAL_KEY;
  rmSync(dir, { recursive: true, force: true });
});

/** The sealed strings in the bundle: [start, end) of each string literal's content. */
function targets(code: string): { kind: string; start: number; end: number }[] {
  return [...code.matchAll(/sealkit(?:-key)?:1:[A-Za-z0-9_:.-]+/g)].map((m) => ({
    kind: m[0].startsWith("sealkit-key") ? "record" : "envelope",
    start: m.index as number,
    end: (m.index as number) + m[0].length,
  }));
}

// Characters that keep the literal valid JS: base64url, separators, a few others.
const SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.=+/ ";
const ch = fc.constantFrom(...SAFE.split(""));
type Mut = { kind: "replace" | "insert" | "delete" | "truncate" | "extend" | "swap"; at: number; n: number; s: string; b: number };
const mutation = fc.record({
  kind: fc.constantFrom("replace", "insert", "delete", "truncate", "extend", "swap") as fc.Arbitrary<Mut["kind"]>,
  at: fc.nat(),
  n: fc.integer({ min: 1, max: 6 }),
  s: fc.string({ unit: ch, minLength: 1, maxLength: 4 }),
  b: fc.nat(),
});
function apply(t: string, m: Mut): string {
  const at = m.at % t.length;
  switch (m.kind) {
    case "replace":
      return t.slice(0, at) + (m.s[0] as string) + t.slice(at + 1);
    case "insert":
      return t.slice(0, at) + m.s + t.slice(at);
    case "delete":
      return t.slice(0, at) + t.slice(at + m.n);
    case "truncate":
      return t.slice(0, at);
    case "extend":
      return t + m.s;
    default: {
      const c = t.split("");
      const b = m.b % t.length;
      [c[at], c[b]] = [c[b] as string, c[at] as string];
      return c.join("");
    }
  }
}

interface Outcome {
  results: { id: number; load?: { name: string; code?: string }; reads: Record<string, { value?: string; error?: { name: string; code?: string } }> }[];
  crashes: string[];
}
/** Writes each bundle text to its own file and evaluates them all in one child process. */
function evaluate(texts: string[]): Outcome {
  const caseDir = mkdtempSync(join(dir, "cases-"));
  const cases = texts.map((t, id) => {
    const file = join(caseDir, `case-${id}.mjs`);
    writeFileSync(file, t);
    return { id, file, names: NAMES };
  });
  writeFileSync(join(caseDir, "cases.json"), JSON.stringify(cases));
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "_bundle-case-runner.mjs"), join(caseDir, "cases.json"), join(caseDir, "out.json")], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, SEALKIT_LOCAL_KEY: toBase64(localKey), SEALKIT_DEV_FALLBACK: "0" },
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(readFileSync(join(caseDir, "out.json"), "utf8")) as Outcome;
  rmSync(caseDir, { recursive: true, force: true });
  return out;
}

describe("tamper fuzzing of envelopes inside a built bundle", () => {
  it("the untouched bundle opens both values (control)", () => {
    expect(targets(bundle).map((t) => t.kind).sort()).toEqual(["envelope", "envelope", "record"]);
    const out = evaluate([bundle]);
    expect(out.crashes).toEqual([]);
    expect(out.results[0]?.reads).toEqual({ "db-password": { value: VALUES["db-password"] }, "api-token": { value: VALUES["api-token"] } });
  });

  it(`${CASES} mutated bundles: every read is a SealkitError or the original value (seed ${SEED})`, () => {
    const ts = targets(bundle);
    const arb = fc.tuple(fc.nat(ts.length - 1), mutation);
    const samples = fc.sample(arb, { numRuns: CASES * 2, seed: SEED });
    const texts: string[] = [];
    const labels: string[] = [];
    for (const [i, m] of samples) {
      if (texts.length === CASES) break;
      const t = ts[i] as (typeof ts)[number];
      const orig = bundle.slice(t.start, t.end);
      const mutated = apply(orig, m);
      if (mutated === orig) continue;
      texts.push(bundle.slice(0, t.start) + mutated + bundle.slice(t.end));
      labels.push(`${t.kind} ${JSON.stringify(m)}`);
    }
    expect(texts.length).toBe(CASES);
    const out = evaluate(texts);
    expect(out.crashes, `seed ${SEED}`).toEqual([]);
    const codes = new Map<string, number>();
    let failedReads = 0;
    for (const r of out.results) {
      const label = `seed ${SEED}, case ${r.id}: ${labels[r.id]}`;
      if (r.load) {
        expect(r.load.name, label).toBe("SealkitError");
        codes.set(r.load.code as string, (codes.get(r.load.code as string) ?? 0) + 1);
        failedReads++;
        continue;
      }
      for (const name of NAMES) {
        const read = r.reads[name];
        if (read?.error) {
          expect(read.error.name, `${label}: ${name}: ${JSON.stringify(read.error)}`).toBe("SealkitError");
          expect(read.error.code, label).toMatch(/^E_[A-Z_]+$/);
          codes.set(read.error.code as string, (codes.get(read.error.code as string) ?? 0) + 1);
          failedReads++;
        } else expect(read?.value, `${label}: ${name} opened to something else`).toBe(VALUES[name]);
      }
    }
    // Mutations reached the format checks, the GCM tags and the data-key unwrap.
    expect(codes.get("E_FORMAT") ?? 0, JSON.stringify([...codes])).toBeGreaterThan(20);
    expect(codes.get("E_AUTH") ?? 0, JSON.stringify([...codes])).toBeGreaterThan(20);
    // Most cases break a read (a mutated envelope breaks one of the two, a mutated record both).
    expect(failedReads).toBeGreaterThan(CASES * 0.8);
  }, 120_000);

  it("a key reference changed to a key the build did not pin, and an attacker's own record: E_KEY_PINNING", async () => {
    const recText = /sealkit-key:1:[A-Za-z0-9_-]+/.exec(bundle)?.[0] as string;
    const rec = decodeKeyRecord(recText);
    const k0 = rec.keys[0] as (typeof rec.keys)[number];
    // 1. Only the key reference changes (another local key's check value).
    const otherRef = encodeKeyRecord({ ...rec, keys: [{ ...k0, keyRef: "local:00c0ffee" }] });
    // 2. A well-formed record whose data key is wrapped under the attacker's own master key.
    const attacker = localProvider({ key: Buffer.alloc(32, 0x66) });
    const dataKey = newDataKey();
    const { wrapped, keyRef } = await attacker.wrap(dataKey, { keyRef: "local", context: k0.context });
    const own = encodeKeyRecord({ ...rec, keys: [{ provider: "local", keyRef: keyRef ?? "local", wrapped: toBase64(wrapped), context: k0.context }] });
    // 3. The attacker's key added in front of the pinned one.
    const both = encodeKeyRecord({ ...rec, keys: [{ provider: "local", keyRef: keyRef ?? "local", wrapped: toBase64(wrapped), context: k0.context }, k0] });
    const out = evaluate([otherRef, own, both].map((r) => bundle.replace(recText, r)));
    expect(out.crashes).toEqual([]);
    for (const r of out.results.slice(0, 2)) {
      for (const name of NAMES) expect(r.reads[name]?.error, `case ${r.id}`).toMatchObject({ name: "SealkitError", code: "E_KEY_PINNING" });
    }
    // With the pinned key still in the record, only the pinned key is used: the values open.
    for (const name of NAMES) expect(out.results[2]?.reads[name]).toEqual({ value: VALUES[name] });
  });
});
