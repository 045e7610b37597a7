
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeKeyRecord, encodeKeyRecord, keyRecordOf, registerProvider, toBase64, unwrapFirst } from "@sealkit/envelope";
import { generateLocalKey, localProvider } from "@sealkit/envelope/local";
import { FAULT_POINTS, type FaultPoint, getSecret, initStore, readStoreFile, setSecrets, verifyStore, withStoreLock } from "@sealkit/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, sealkitAsync } from "./support/cli.js";

const key = generateLocalKey();
const VALUES: Record<string, string> = { alpha: "alpha-value-1234567", beta: "beta-value-89abcdef" };
const NEW_VALUE = "gamma-value-new-0001";
const td = new TextDecoder();
let base: string;
let template: string;

function cli(args: string[], cwd: string, opts: { fault?: FaultPoint; input?: string } = {}): Promise<CliResult> {
  const env = { PATH: process.env.PATH, SEALKIT_LOCAL_KEY: toBase64(key), NO_COLOR: "1", SEALKIT_FAULT: opts.fault };
  return sealkitAsync(args, { cwd, env, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

async function limit<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return out;
}

beforeAll(async () => {
  registerProvider(localProvider({ key }));
  base = mkdtempSync(join(tmpdir(), "sk-crash-"));
  template = join(base, "template");
  const path = join(template, "sealkit.secrets.json");
  mkdirSync(template);
  await initStore({ path, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(path, new Map(Object.entries(VALUES).map(([k, v]) => [k, new TextEncoder().encode(v)])));
  // A built file carrying the store's data-key record, as the plugin emits it.
  const rec = encodeKeyRecord(keyRecordOf(await readStoreFile(path)));
  writeFileSync(join(template, "bundle.js"), `register(${JSON.stringify(rec)}, {}, { pins: [] });\n`);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

type Op = "set" | "rekey" | "rotate" | "rekey-bundle";
const ARGS: Record<Op, string[]> = {
  set: ["set", "gamma"],
  rekey: ["rekey"],
  rotate: ["rotate"],
  "rekey-bundle": ["rekey", "--bundle", "."],
};
/** The fault points each operation passes through (the test asserts it is killed at each). */
const REACHED: Record<Op, FaultPoint[]> = {
  set: ["lock-acquired", "temp-written", "temp-synced", "before-rename", "after-rename"],
  rekey: ["lock-acquired", "rekey-unwrapped", "wrap-verified", "temp-written", "temp-synced", "before-rename", "after-rename"],
  rotate: ["lock-acquired", "rotate-resealed", "wrap-verified", "temp-written", "temp-synced", "before-rename", "after-rename"],
  "rekey-bundle": ["rekey-unwrapped", "wrap-verified", "bundle-file-written"],
};
const BEFORE_RENAME = new Set<FaultPoint>(["lock-acquired", "temp-written", "temp-synced", "before-rename", "rekey-unwrapped", "rotate-resealed", "wrap-verified"]);

describe("kill at each fault point", () => {
  it("covers every declared fault point", () => {
    expect(new Set(Object.values(REACHED).flat())).toEqual(new Set(FAULT_POINTS));
  });

  it("leaves the old or the new state, never neither, and the next command runs", async () => {
    const combos = (Object.keys(REACHED) as Op[]).flatMap((op) => REACHED[op].map((point) => ({ op, point })));
    const results = await limit(
      4,
      combos.map(({ op, point }) => async () => {
        const dir = join(base, `${op}-${point}`);
        cpSync(template, dir, { recursive: true });
        const path = join(dir, "sealkit.secrets.json");
        const oldText = readFileSync(path, "utf8");
        const oldBundle = readFileSync(join(dir, "bundle.js"), "utf8");
        const killed = await cli(ARGS[op], dir, { fault: point, input: NEW_VALUE });
        const afterText = readFileSync(path, "utf8");
        const afterBundle = readFileSync(join(dir, "bundle.js"), "utf8");
        // The next command must not be blocked by a dead holder's lock or temp files.
        const t0 = Date.now();
        const next = await cli(["set", "after-crash"], dir, { input: "after-crash-value" });
        return { op, point, dir, killed, oldText, afterText, oldBundle, afterBundle, next, waitedMs: Date.now() - t0 };
      }),
    );
    for (const r of results) {
      const label = `${r.op} killed at ${r.point}`;
      expect(r.killed.signal, `${label}: ${r.killed.stderr}`).toBe("SIGKILL");
      expect(r.next.status, `${label}, next command: ${r.next.stderr}`).toBe(0);
      expect(r.waitedMs, label).toBeLessThan(15_000);
      // No leftovers once the next command has run.
      expect(readdirSync(r.dir).filter((n) => n.endsWith(".tmp") || n.endsWith(".lock")), label).toEqual([]);

      const old = JSON.parse(r.oldText);
      const path = join(r.dir, "sealkit.secrets.json");
      if (r.op === "rekey-bundle") {
        // The store is untouched; the bundle's record is the old one or a new one that opens.
        expect(r.afterText).toBe(r.oldText);
        const rec = decodeKeyRecord(/sealkit-key:1:[A-Za-z0-9_-]+/.exec(r.afterBundle)?.[0] as string);
        const storeKey = (await unwrapFirst((await readStoreFile(path)).keys)).dataKey;
        const bundleKey = (await unwrapFirst(rec.keys)).dataKey;
        expect(Buffer.from(bundleKey).equals(Buffer.from(storeKey)), label).toBe(true);
        if (r.point !== "bundle-file-written") expect(r.afterBundle, label).toBe(r.oldBundle);
        else expect(r.afterBundle, label).not.toBe(r.oldBundle);
        continue;
      }
      // Before the rename nothing may have changed, byte for byte; from the rename on, the new state.
      if (BEFORE_RENAME.has(r.point)) expect(r.afterText, label).toBe(r.oldText);
      else expect(r.afterText, label).not.toBe(r.oldText);
      const now = JSON.parse(r.afterText);
      const isNew = r.afterText !== r.oldText;
      if (r.op === "set") expect(Object.keys(now.secrets).sort(), label).toEqual(isNew ? ["alpha", "beta", "gamma"] : ["alpha", "beta"]);
      if (r.op === "rekey") {
        expect(now.generation, label).toBe(old.generation);
        expect(now.secrets, label).toEqual(old.secrets);
      }
      if (r.op === "rotate") expect(now.generation, label).toBe(isNew ? old.generation + 1 : old.generation);
      // Whatever state it is in, the store (now with the next command's write) opens and verifies.
      const v = await verifyStore(path);
      expect(v.failed, label).toEqual([]);
      expect(v.keys.every((k) => k.ok), label).toBe(true);
      for (const [n, val] of Object.entries(VALUES)) expect(td.decode(await getSecret(path, n)), label).toBe(val);
      if (isNew && r.op === "set") expect(td.decode(await getSecret(path, "gamma")), label).toBe(NEW_VALUE);
      expect(td.decode(await getSecret(path, "after-crash")), label).toBe("after-crash-value");
    }
  }, 240_000);
});

describe("concurrent writers", () => {
  it("parallel `sealkit set` processes all land (or fail with E_LOCKED), never corrupting the store", async () => {
    const dir = join(base, "concurrent");
    cpSync(template, dir, { recursive: true });
    const path = join(dir, "sealkit.secrets.json");
    const landed: string[] = [];
    for (let round = 0; round < 3; round++) {
      const names = Array.from({ length: 4 }, (_, i) => `c${round}-${i}`);
      const runs = await Promise.all(names.map((n) => cli(["set", n], dir, { input: `value-of-${n}` })));
      runs.forEach((r, i) => {
        if (r.status === 0) landed.push(names[i] as string);
        else {
          expect(r.status, r.stderr).toBe(7);
          expect(r.stderr).toContain("E_LOCKED");
        }
      });
    }
    const store = await readStoreFile(path);
    expect(Object.keys(store.secrets).sort()).toEqual([...Object.keys(VALUES), ...landed].sort());
    expect(landed.length).toBeGreaterThan(0);
    for (const n of landed) expect(td.decode(await getSecret(path, n))).toBe(`value-of-${n}`);
    expect((await verifyStore(path)).failed).toEqual([]);
  }, 120_000);

  it("a live lock holder makes `sealkit set` fail clearly with E_LOCKED (exit 7), and the store is unchanged", async () => {
    const dir = join(base, "held");
    cpSync(template, dir, { recursive: true });
    const path = join(dir, "sealkit.secrets.json");
    const before = readFileSync(path, "utf8");
    let r: CliResult | undefined;
    await withStoreLock(path, async () => {
      r = await cli(["set", "blocked"], dir, { input: "blocked-value" });
    });
    expect(r?.status, r?.stderr).toBe(7);
    expect(r?.stderr).toContain("E_LOCKED");
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(existsSync(`${path}.lock`)).toBe(false);
  }, 60_000);
});
