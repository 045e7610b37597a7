/**
 * Fault injection (issue #10) through the local AWS KMS server's knobs, with the real
 * `@sealkit/aws-kms` provider and the real runtime (built dist/), each scenario in its own
 * child process driven over IPC (`_runtime-child.mjs`). For every fault the expected
 * behaviour is asserted: retry and recover; fail fast with the right code; serve stale
 * within the stale-if-error window; fail closed after it. Afterwards the child must exit by
 * itself within a few seconds (no leaked timer or socket) with no unhandled rejection.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeEnvelope, encodeKeyRecord, keyRecordOf, storedEnvelope } from "@sealkit/envelope";
import { initStore, readStoreFile, setSecrets } from "@sealkit/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KeyInfo, type KmsServer, startKmsServer } from "../support/aws-kms-server.js";

const CREDS = { AWS_ACCESS_KEY_ID: "AKIAEXAMPLEFAULTS001", AWS_SECRET_ACCESS_KEY: "faults/fake/secret/for/tests/000000000000" };
const VALUE = "fault-value-Kq2!";
/** Runtime settings in every child: short enough to keep each scenario around a second. */
const OPTIONS = { timeout: 250, attempts: 4, backoff: 1, backoffCap: 5, deadline: 5_000, ttl: 60_000, refreshAhead: 0, staleIfError: 30_000 };
const EXIT_WITHIN_MS = 3_000;
const saved = { ...process.env };
let server: KmsServer;
let key: KeyInfo;
let reg: { keyRecord: string; envelopes: Record<string, string>; pins: string[] };
let base: string;

interface Reply {
  ok?: boolean;
  value?: string;
  ms?: number;
  error?: { code: string; message: string; details?: Record<string, unknown>; retryable?: boolean };
  events: { type: string; code?: string; retryable?: boolean; durationMs?: number; background?: boolean }[];
  crash?: string;
}

class Fn {
  private n = 0;
  private waiting = new Map<number, (r: Reply) => void>();
  stderr = "";
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
  constructor(readonly child: ChildProcess) {
    child.stderr?.on("data", (d) => (this.stderr += d));
    child.on("message", (m: Reply & { id?: number }) => {
      if (m.id !== undefined) this.waiting.get(m.id)?.(m);
    });
    this.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));
  }
  send(m: Record<string, unknown>): Promise<Reply> {
    const id = ++this.n;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...m, id });
    });
  }
  read = () => this.send({ op: "read", name: "db-password" });
  advance = (ms: number) => this.send({ op: "advance", ms });
  /** Closes the channel; the process must then exit on its own, cleanly and promptly. */
  async end(): Promise<void> {
    const t0 = Date.now();
    this.child.send({ op: "end" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), EXIT_WITHIN_MS + 1_000);
    const r = await this.exited;
    clearTimeout(timer);
    expect(r.at - t0, `exit took ${r.at - t0} ms (a leaked timer or socket?)`).toBeLessThan(EXIT_WITHIN_MS);
    expect(r.signal).toBeNull();
    expect(this.stderr).not.toContain("UNHANDLED_REJECTION");
    expect(r.code, this.stderr).toBe(0);
  }
}

async function startFn(options: Record<string, unknown> = {}): Promise<Fn> {
  const child = fork(join(import.meta.dirname, "_runtime-child.mjs"), [], {
    cwd: base,
    env: { PATH: process.env.PATH, ...CREDS, AWS_ENDPOINT_URL_KMS: server.url, AWS_EC2_METADATA_DISABLED: "true", CHILD_PROVIDER: "aws-kms" },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  const fn = new Fn(child);
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (c) => reject(new Error(`child exited ${c}: ${fn.stderr}`)));
  });
  await fn.send({ op: "register", ...reg, options: { ...OPTIONS, ...options } });
  return fn;
}

const failures = (r: Reply) => r.events.filter((e) => e.type === "unwrap.failure").map((e) => e.code);
const decrypts = () => server.requests.filter((q) => q.op === "Decrypt");

beforeAll(async () => {
  server = await startKmsServer({ credentials: { [CREDS.AWS_ACCESS_KEY_ID]: CREDS.AWS_SECRET_ACCESS_KEY } });
  for (const v of Object.keys(process.env)) if (v.startsWith("AWS_") || v.startsWith("SEALKIT_")) delete process.env[v];
  Object.assign(process.env, { ...CREDS, AWS_ENDPOINT_URL_KMS: server.url, AWS_EC2_METADATA_DISABLED: "true" });
  await import("@sealkit/aws-kms");
  key = server.createKey({ region: "us-east-1" });
  base = mkdtempSync(join(tmpdir(), "sealkit-faults-"));
  const path = join(base, "sealkit.secrets.json");
  await initStore({ path, masterKeys: [{ provider: "aws-kms", keyRef: key.arn }] });
  await setSecrets(path, new Map([["db-password", new TextEncoder().encode(VALUE)]]));
  const store = await readStoreFile(path);
  reg = {
    keyRecord: encodeKeyRecord(keyRecordOf(store)),
    envelopes: { "db-password": encodeEnvelope(storedEnvelope(store, "db-password")) },
    pins: store.keys.map((k) => `aws-kms:${k.keyRef}`),
  };
});
afterAll(async () => {
  process.env = saved;
  await server.close();
  rmSync(base, { recursive: true, force: true });
});

/** Every scenario starts from a healthy server and an empty request log. */
function healthy() {
  server.resetCounters();
  server.setLatency(0);
  server.setThrottle({ rate: 0 });
  server.setRegionDown("us-east-1", false);
  server.setAccessDenied(key.keyId, false);
  server.enableKey(key.keyId);
}

describe("retry and recover", () => {
  const cases: { fault: string; inject: () => void; codes: string[] }[] = [
    { fault: "throttling (ThrottlingException ×2)", inject: () => server.failNext("ThrottlingException", 2), codes: ["E_THROTTLED", "E_THROTTLED"] },
    {
      fault: "5xx (KMSInternalException, then a bare 503)",
      inject: () => {
        server.failNext("KMSInternalException");
        server.failNext("http503");
      },
      codes: ["E_UNAVAILABLE", "E_UNAVAILABLE"],
    },
    { fault: "connection resets ×2", inject: () => server.failNext("reset", 2), codes: ["E_UNAVAILABLE", "E_UNAVAILABLE"] },
    { fault: "a response that never comes (per-attempt timeout)", inject: () => server.failNext("hang"), codes: ["E_TIMEOUT"] },
    { fault: "DependencyTimeoutException", inject: () => server.failNext("DependencyTimeoutException"), codes: ["E_TIMEOUT"] },
  ];
  it.each(cases)("$fault", async ({ inject, codes }) => {
    healthy();
    const fn = await startFn();
    inject();
    const r = await fn.read();
    expect(r.value).toBe(VALUE);
    expect(failures(r)).toEqual(codes);
    expect(r.events.filter((e) => e.type === "unwrap.failure").every((e) => e.retryable)).toBe(true);
    expect(decrypts().length).toBe(codes.length + 1);
    if (codes[0] === "E_TIMEOUT" && decrypts()[0]?.error === "hang") {
      expect(r.events.find((e) => e.type === "unwrap.failure")?.durationMs).toBeGreaterThanOrEqual(OPTIONS.timeout - 5);
    }
    // Warm: no further key-service call.
    expect((await fn.read()).value).toBe(VALUE);
    expect(decrypts().length).toBe(codes.length + 1);
    await fn.end();
  });

  it("a slow key service within the timeout: one call, no retry", async () => {
    healthy();
    server.setLatency(120);
    const fn = await startFn();
    const r = await fn.read();
    expect(r.value).toBe(VALUE);
    expect(r.ms).toBeGreaterThanOrEqual(100);
    expect(failures(r)).toEqual([]);
    expect(decrypts().length).toBe(1);
    await fn.end();
  });
});

describe("fail with the right code", () => {
  const cases: { fault: string; inject: () => void; code: string; calls: number; fragment: string }[] = [
    { fault: "access denied", inject: () => server.setAccessDenied(key.keyId, true), code: "E_ACCESS_DENIED", calls: 1, fragment: "sealkit policy" },
    { fault: "key disabled", inject: () => server.disableKey(key.keyId), code: "E_KEY_DISABLED", calls: 1, fragment: "rekey" },
    { fault: "key pending deletion", inject: () => server.scheduleKeyDeletion(key.keyId), code: "E_KEY_DISABLED", calls: 1, fragment: "pending deletion" },
    { fault: "throttled on every call", inject: () => server.setThrottle({ rate: 1 }), code: "E_THROTTLED", calls: OPTIONS.attempts, fragment: "ThrottlingException" },
    { fault: "slower than the timeout on every call", inject: () => server.setLatency(600), code: "E_TIMEOUT", calls: OPTIONS.attempts, fragment: "timed out" },
    { fault: "no response ever", inject: () => server.setRegionDown("us-east-1", "hang"), code: "E_TIMEOUT", calls: OPTIONS.attempts, fragment: "timed out" },
    { fault: "connection reset on every call", inject: () => server.setRegionDown("us-east-1", "reset"), code: "E_UNAVAILABLE", calls: OPTIONS.attempts, fragment: "aws-kms" },
  ];
  it.each(cases)("$fault: $code after $calls call(s)", async ({ inject, code, calls, fragment }) => {
    healthy();
    const fn = await startFn();
    inject();
    const r = await fn.read();
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe(code);
    expect(r.error?.message).toContain(fragment);
    expect(r.error?.details?.calls).toBe(calls);
    expect(decrypts().length).toBe(calls);
    expect(JSON.stringify(r)).not.toContain(VALUE);
    healthy();
    // A failed unwrap is not cached: once the fault is gone the next read recovers.
    expect((await fn.read()).value).toBe(VALUE);
    await fn.end();
  });
});

describe("a key disabled mid-run, and stale-if-error", () => {
  it("disabled after the TTL: fails closed at once with E_KEY_DISABLED, not served stale", async () => {
    healthy();
    const fn = await startFn();
    expect((await fn.read()).value).toBe(VALUE);
    server.disableKey(key.keyId);
    expect((await fn.read()).value).toBe(VALUE); // within the TTL: the cached key
    await fn.advance(OPTIONS.ttl + 1_000);
    const r = await fn.read();
    expect(r.error?.code).toBe("E_KEY_DISABLED");
    expect(r.events.map((e) => e.type)).not.toContain("cache.stale");
    expect(r.events).toContainEqual(expect.objectContaining({ type: "cache.wiped", reason: "failed" }));
    expect(decrypts().length).toBe(2);
    server.enableKey(key.keyId);
    expect((await fn.read()).value).toBe(VALUE);
    await fn.end();
  });

  it("access revoked after the TTL: E_ACCESS_DENIED, the old key is wiped", async () => {
    healthy();
    const fn = await startFn();
    expect((await fn.read()).value).toBe(VALUE);
    server.setAccessDenied(key.keyId, ["Decrypt"]);
    await fn.advance(OPTIONS.ttl + 1_000);
    const r = await fn.read();
    expect(r.error?.code).toBe("E_ACCESS_DENIED");
    expect(r.events).toContainEqual(expect.objectContaining({ type: "cache.wiped", reason: "failed" }));
    await fn.end();
  });

  for (const fault of ["http503", "ThrottlingException", "hang"] as const) {
    it(`transient failure (${fault}) after the TTL: stale within the window, closed after it, recovered when it ends`, async () => {
      healthy();
      const fn = await startFn();
      expect((await fn.read()).value).toBe(VALUE);
      server.setRegionDown("us-east-1", fault);
      await fn.advance(OPTIONS.ttl + 1_000);
      const stale = await fn.read();
      expect(stale.value).toBe(VALUE);
      expect(stale.events).toContainEqual(expect.objectContaining({ type: "cache.stale" }));
      // Later in the window: still stale (served at once; a background refresh may run).
      await fn.advance(OPTIONS.staleIfError / 2);
      expect((await fn.read()).value).toBe(VALUE);
      // Past TTL + window: fail closed.
      await fn.advance(OPTIONS.staleIfError);
      const closed = await fn.read();
      expect(closed.ok).toBe(false);
      expect(closed.error?.code).toBe(fault === "ThrottlingException" ? "E_THROTTLED" : fault === "hang" ? "E_TIMEOUT" : "E_UNAVAILABLE");
      expect(closed.events).toContainEqual(expect.objectContaining({ type: "cache.wiped" }));
      server.setRegionDown("us-east-1", false);
      expect((await fn.read()).value).toBe(VALUE);
      await fn.end();
    });
  }

  it("staleIfError 0 fails closed at the TTL", async () => {
    healthy();
    const fn = await startFn({ staleIfError: 0 });
    expect((await fn.read()).value).toBe(VALUE);
    server.setRegionDown("us-east-1", "http503");
    await fn.advance(OPTIONS.ttl + 1);
    const r = await fn.read();
    expect(r.error?.code).toBe("E_UNAVAILABLE");
    expect(r.events.map((e) => e.type)).not.toContain("cache.stale");
    await fn.end();
  });
});

describe("the exit check itself", () => {
  it("fails for a child kept alive by a pending call, and for an unhandled rejection", async () => {
    healthy();
    // A reader waiting on a call that never answers, with a 20 s timeout: its timer keeps the
    // process alive (as it must while a reader waits), so `end` sees no prompt exit.
    const slow = await startFn({ timeout: 20_000, deadline: 30_000 });
    server.setRegionDown("us-east-1", "hang");
    void slow.read();
    await new Promise((r) => setTimeout(r, 200));
    await expect(slow.end()).rejects.toThrow(/exit took/);
    healthy();
    const rejecting = await startFn();
    await rejecting.send({ op: "unhandled" });
    await expect(rejecting.end()).rejects.toThrow(/UNHANDLED_REJECTION/);
  }, 20_000);
});
