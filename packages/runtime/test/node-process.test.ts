import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeEnvelope, encodeKeyRecord, newDataKey, newStoreId, sealValue, toBase64, wrapContext } from "@sealkit/envelope";
import { DIST_NODE, ENVELOPE_DIST, requireBuild, url } from "./_dist.js";

function run(script: string, cwd: string, env: Record<string, string> = {}, killAfter = 15_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number; killed: boolean }>((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [script], { cwd, env: { PATH: process.env.PATH ?? "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, killAfter);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0, killed });
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), "sealkit-runtime-"));
beforeAll(requireBuild);

describe("the process exits promptly", () => {
  it("after reads, with a background refresh still hanging in the key service", async () => {
    const storeId = newStoreId();
    const dataKey = newDataKey();
    const keyRecord = encodeKeyRecord({
      version: 1,
      storeId,
      generation: 1,
      keys: [{ provider: "xor", keyRef: "k", wrapped: toBase64(dataKey.map((b) => b ^ 0x5a)), context: wrapContext(storeId, 1) }],
    });
    const envelope = encodeEnvelope(sealValue(dataKey, { storeId, generation: 1, name: "a" }, "alpha"));
    const script = join(tmp, "exit.mjs");
    writeFileSync(
      script,
      `import { configure, register, secret } from ${JSON.stringify(url(DIST_NODE))};
import { registerProvider } from ${JSON.stringify(url(ENVELOPE_DIST))};
let n = 0;
registerProvider({ id: "xor", async wrap() { throw new Error("unused"); },
  // the first unwrap answers; every later one hangs forever and ignores its AbortSignal
  unwrap: async (w) => (++n === 1 ? w.map((b) => b ^ 0x5a) : new Promise(() => {})) });
configure({ ttl: 1000, refreshAhead: 900 });
register(${JSON.stringify(keyRecord)}, { a: ${JSON.stringify(envelope)} });
const v1 = await secret("a");
await new Promise((r) => setTimeout(r, 600)); // past ttl - min(refreshAhead, ttl/2), before expiry
const v2 = await secret("a"); // inside the refresh-ahead window: starts a background unwrap that hangs
await new Promise((r) => setTimeout(r, 20)); // let the hanging call begin
process.stdout.write(JSON.stringify([v1, v2, n]));
`,
    );
    // A 20 s per-attempt timeout: a timer that kept the process alive would hold it that long.
    const r = await run(script, tmp, { SEALKIT_TIMEOUT: "20s", SEALKIT_DEADLINE: "60s" });
    expect(r.stderr).toBe("");
    expect(r.killed).toBe(false);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["alpha", "alpha", 2]);
    expect(r.ms).toBeLessThan(10_000);
  });
});

