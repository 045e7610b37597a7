/**
 * Smoke run of `pnpm bench` with tiny N (BENCH_SMOKE=1): the harness starts the local KMS
 * server, builds every contender's bundle, runs fresh-process cold starts and a small fleet,
 * writes its results file and leaves no process behind. It checks that the harness works,
 * not performance: the figures come from `pnpm bench` (docs/benchmarks.md).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "sealkit-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Processes whose environment carries this run's tag (children inherit it). */
function tagged(tag: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, "latin1").includes(`SEALKIT_BENCH_SMOKE_TAG=${tag}`)) pids.push(Number(p));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

describe("pnpm bench, smoke mode", () => {
  // Linux only because it finds leftover processes through /proc (CI and this project's
  // machines are Linux). A missing build is a failure, not a skip: `pnpm test` builds first.
  it.skipIf(process.platform !== "linux")(
    "runs cold starts and a fleet end to end, writes results and leaves no process",
    async () => {
      expect(existsSync(join(root, "packages/plugin/dist/esbuild.js")), "run `pnpm build` first").toBe(true);
      const tag = randomUUID();
      const results = join(dir, "smoke.json");
      const code = await new Promise<number | null>((done) => {
        const child = spawn(process.execPath, [join(root, "bench/run.mjs")], {
          cwd: root,
          env: { ...process.env, BENCH_SMOKE: "1", BENCH_ONLY: "cold,fleet", BENCH_RESULTS: results, SEALKIT_BENCH_SMOKE_TAG: tag },
          stdio: ["ignore", "ignore", "pipe"],
        });
        child.stderr.resume();
        child.on("close", done);
      });
      expect(code).toBe(0);
      const r = JSON.parse(readFileSync(results, "utf8"));
      const sealkit = r.cold.rows.filter((x: { contender: string }) => x.contender === "sealkit");
      expect(sealkit.length).toBeGreaterThan(0);
      for (const row of sealkit) {
        expect(row.ok).toBe(row.runs);
        expect(row.calls).toBe(1);
      }
      for (const row of r.cold.rows) expect(row.ok, row.contender).toBe(row.runs);
      for (const row of r.fleet.rows) expect(row.ok, row.contender).toBe(row.starts);
      expect(r.targets.some((t: { target: string }) => t.target.startsWith("key-service calls per cold start"))).toBe(true);
      expect(tagged(tag)).toEqual([]);
    },
    120_000,
  );
});
