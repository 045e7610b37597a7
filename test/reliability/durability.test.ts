
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerProvider, toBase64 } from "@sealkit/envelope";
import { generateLocalKey, localProvider } from "@sealkit/envelope/local";
import { getSecret, initStore, readStoreFile, setSecrets, verifyStore } from "@sealkit/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliBin, startNode } from "../support/cli.js";
import { prng } from "../support/prng.js";

const key = generateLocalKey();
const td = new TextDecoder();
const SEED = Number(process.env.DURABILITY_SEED ?? Date.now() % 100_000);
let base: string;
let template: string;

function start(args: string[], cwd: string, opts: { env?: Record<string, string>; input?: string } = {}) {
  const env = { PATH: process.env.PATH, SEALKIT_LOCAL_KEY: toBase64(key), NO_COLOR: "1", ...opts.env };
  return startNode([cliBin, ...args], { cwd, env, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}
const cli = (args: string[], cwd: string, opts: { env?: Record<string, string>; input?: string } = {}) => start(args, cwd, opts).done;


const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".tmp") || n.endsWith(".lock"));

beforeAll(async () => {
  registerProvider(localProvider({ key }));
  base = mkdtempSync(join(tmpdir(), "sk-durability-"));
  template = join(base, "template");
  mkdirSync(template);
  const path = join(template, "sealkit.secrets.json");
  await initStore({ path, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(path, new Map([["base", new TextEncoder().encode("base-value-000")]]));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("kill -9 at random moments", () => {
  it(`set, rekey and rotate killed from outside, 24 times (seed ${SEED}): the store always opens, acknowledged sets survive`, async () => {
    const dir = join(base, "random-kills");
    cpSync(template, dir, { recursive: true });
    const path = join(dir, "sealkit.secrets.json");
    const random = prng(SEED);
    // Calibrate: how long one command takes on this machine right now.
    const t0 = Date.now();
    expect((await cli(["set", "calibrate"], dir, { input: "calibrate-value" })).status).toBe(0);
    const typical = Math.max(150, Date.now() - t0);
    const acknowledged = new Map<string, string>([["base", "base-value-000"], ["calibrate", "calibrate-value"]]);
    const outcomes = { killed: 0, finished: 0 };
    const ops = ["set", "rekey", "rotate"] as const;
    for (let i = 0; i < 24; i++) {
      const op = ops[i % 3] as (typeof ops)[number];
      const name = `k${i}`;
      const value = `value-${i}-${SEED}`;
      const { child, done } = start(op === "set" ? ["set", name] : [op], dir, { input: value });
      // Anywhere from start-up to a little past the typical end, so some kills land mid-write.
      const delay = Math.floor(typical * (0.3 + random() * 0.9));
      const timer = setTimeout(() => child.kill("SIGKILL"), delay);
      const r = await done;
      clearTimeout(timer);
      const label = `#${i} ${op} (kill after ${delay} ms of ~${typical}, seed ${SEED})`;
      if (r.signal === "SIGKILL") outcomes.killed++;
      else {
        outcomes.finished++;
        expect(r.status, `${label}: ${r.stderr}`).toBe(0);
        if (op === "set") acknowledged.set(name, value);
      }
      // The killed holder is certainly dead: clear its lock as an operator would (lock
      // takeover after 5 s is covered by crash-safety.test.ts; waiting here would be slow).
      if (existsSync(`${path}.lock`)) rmSync(`${path}.lock`, { recursive: true, force: true });
      const store = await readStoreFile(path);
      const v = await verifyStore(path);
      expect(v.failed, label).toEqual([]);
      expect(v.keys.every((k) => k.ok), label).toBe(true);
      for (const [n, val] of acknowledged) expect(td.decode(await getSecret(path, n)), `${label}: ${n}`).toBe(val);
      // A set that was killed either landed whole or not at all.
      if (op === "set" && r.signal && store.secrets[name]) expect(td.decode(await getSecret(path, name)), label).toBe(value);
    }
    // The next command cleans up whatever a killed writer left.
    expect((await cli(["set", "after"], dir, { input: "after-value" })).status).toBe(0);
    expect(leftovers(dir)).toEqual([]);
    // The loop exercised both outcomes (with a seed where all finish or all die, widen the window).
    expect(outcomes.killed, JSON.stringify(outcomes)).toBeGreaterThan(2);
    expect(outcomes.finished, JSON.stringify(outcomes)).toBeGreaterThan(2);
  }, 150_000);
});

describe("a full disk during a write", () => {
  const cases: { op: string[]; point: string }[] = [
    { op: ["set", "gamma"], point: "temp-written" },
    { op: ["set", "gamma"], point: "temp-synced" },
    { op: ["rekey"], point: "temp-written" },
    { op: ["rotate"], point: "before-rename" },
  ];
  it.each(cases)("$op.0 with ENOSPC at $point: E_IO with the hint, old store intact, no temp file", async ({ op, point }) => {
    const dir = join(base, `enospc-${op[0]}-${point}`);
    cpSync(template, dir, { recursive: true });
    const path = join(dir, "sealkit.secrets.json");
    const before = readFileSync(path, "utf8");
    const env = { SEALKIT_FAULT: `${point}:ENOSPC` };
    const r = await cli(op, dir, { env, input: "gamma-value" });
    expect(r.status, r.stderr).toBe(8);
    expect(r.stderr).toContain("E_IO");
    expect(r.stderr).toContain("ENOSPC (disk full; the old store is unchanged)");
    const j = await cli([...op, "--json"], dir, { env, input: "gamma-value" });
    const err = JSON.parse(j.stdout).error;
    expect(err).toMatchObject({ code: "E_IO", exitCode: 8, details: { errno: "ENOSPC", file: path } });
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(leftovers(dir)).toEqual([]);
    // Space is back: the same command succeeds.
    expect((await cli(op, dir, { input: "gamma-value" })).status).toBe(0);
    expect((await verifyStore(path)).failed).toEqual([]);
  });

  it("another errno at the same step gets no disk-full hint", async () => {
    const dir = join(base, "eio");
    cpSync(template, dir, { recursive: true });
    const r = await cli(["set", "gamma"], dir, { env: { SEALKIT_FAULT: "temp-written:EIO" }, input: "v" });
    expect(r.status).toBe(8);
    expect(r.stderr).toContain("EIO");
    expect(r.stderr).not.toContain("disk full");
  });
});

describe("parallel writers", () => {
  it("10 parallel `sealkit set`: each lands or fails with E_LOCKED; acknowledged values (also of one shared name) are never lost", async () => {
    const dir = join(base, "parallel");
    cpSync(template, dir, { recursive: true });
    const path = join(dir, "sealkit.secrets.json");
    const jobs = [
      ...Array.from({ length: 6 }, (_, i) => ({ name: `p${i}`, value: `parallel-${i}` })),
      ...Array.from({ length: 4 }, (_, i) => ({ name: "shared", value: `shared-${i}` })),
    ];
    const runs = await Promise.all(jobs.map((j) => cli(["set", j.name], dir, { input: j.value })));
    const landed = jobs.filter((_, i) => runs[i]?.status === 0);
    runs.forEach((r) => {
      if (r.status !== 0) {
        expect(r.status, r.stderr).toBe(7);
        expect(r.stderr).toContain("E_LOCKED");
      }
    });
    expect(landed.length).toBeGreaterThan(0);
    const store = await readStoreFile(path);
    for (const j of landed.filter((x) => x.name !== "shared")) expect(td.decode(await getSecret(path, j.name))).toBe(j.value);
    expect(Object.keys(store.secrets).filter((n) => n.startsWith("p")).sort()).toEqual(landed.filter((x) => x.name !== "shared").map((x) => x.name).sort());
    const shared = landed.filter((x) => x.name === "shared").map((x) => x.value);
    if (shared.length) expect(shared).toContain(td.decode(await getSecret(path, "shared")));
    expect((await verifyStore(path)).failed).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  }, 90_000);
});
