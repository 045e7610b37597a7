import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { type SealkitEvent, configure, dispose, secret } from "@sealkit/runtime";
import { backoffDelay, isRetryable } from "../src/_unwrap.js";
import { FAST, fail, fakeProvider, hang, makeStore, registerStore, reset } from "./_fake.js";

afterEach(reset);

function store(values = { a: "alpha" }, keyRefs?: string[], options: Parameters<typeof configure>[0] = {}) {
  const events: SealkitEvent[] = [];
  configure({ ...FAST, onEvent: (e) => events.push(e), ...options });
  const fake = fakeProvider();
  const s = makeStore(fake, values, keyRefs);
  registerStore(s);
  return { fake, events, name: s.names[0] as string };
}

describe("retries", () => {
  for (const code of ["E_THROTTLED", "E_TIMEOUT", "E_UNAVAILABLE"] as const) {
    it(`retries ${code} and succeeds`, async () => {
      const { fake, name } = store();
      fake.behaviour = ({ n }) => (n <= 3 ? fail(code) : undefined);
      expect(await secret(name)).toBe("alpha");
      expect(fake.calls).toHaveLength(4);
    });
  }

  for (const code of ["E_ACCESS_DENIED", "E_KEY_DISABLED", "E_AUTH", "E_NOT_FOUND", "E_CREDENTIALS", "E_CONFIG"] as const) {
    it(`fails fast on ${code}, keeping the code`, async () => {
      const { fake, name } = store();
      fake.behaviour = () => fail(code);
      const err = await secret(name).catch((e) => e);
      expect(err.code).toBe(code);
      expect(fake.calls).toHaveLength(1);
    });
  }

  it("retries a raw connection reset the provider let through", async () => {
    const { fake, name } = store();
    fake.behaviour = ({ n }) => {
      if (n === 1) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    };
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2);
  });

  it("gives up after `attempts` calls with the transient code", async () => {
    const { fake, name } = store(undefined, undefined, { attempts: 4 });
    fake.behaviour = () => fail("E_THROTTLED");
    const err = await secret(name).catch((e) => e);
    expect(err.code).toBe("E_THROTTLED");
    expect(err.retryable).toBe(true);
    expect(fake.calls).toHaveLength(4);
  });

  it("aborts a hung call through its AbortSignal after the per-attempt timeout, then retries", async () => {
    const { fake, name } = store(undefined, undefined, { timeout: 30 });
    fake.behaviour = ({ n, signal }) => (n === 1 ? hang(signal) : undefined);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]?.signal?.aborted).toBe(true);
    expect(fake.calls[0]?.signal?.reason?.code).toBe("E_TIMEOUT");
  });

  it("a call that ignores the signal still times out, and its late key is wiped", async () => {
    const { fake, name } = store(undefined, undefined, { timeout: 20, attempts: 2 });
    fake.behaviour = ({ n }) => (n === 1 ? new Promise<void>((r) => setTimeout(r, 80)) : undefined);
    expect(await secret(name)).toBe("alpha");
    await new Promise((r) => setTimeout(r, 120));
    expect(fake.handed).toHaveLength(2);
    expect(fake.handed.some((k) => k.every((b) => b === 0))).toBe(true);
  });

  it("stops at the overall deadline with E_TIMEOUT", async () => {
    const { fake, name } = store(undefined, undefined, { timeout: 40, deadline: 100, attempts: 50 });
    fake.behaviour = ({ signal }) => hang(signal);
    const t0 = Date.now();
    const err = await secret(name).catch((e) => e);
    expect(err.code).toBe("E_TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(2_000); // bounded by the deadline, not by 50 attempts
    expect(fake.calls.length).toBeLessThan(50);
  });

  it("survives 30 % throttling in 5 of 5 cold starts with the default attempts", async () => {
    // Deterministic PRNG (mulberry32) so the run is reproducible; backoff scaled down for speed.
    let seed = 42;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    let ok = 0;
    for (let start = 0; start < 5; start++) {
      const values = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`s${i}`, `v${i}`]));
      configure({ ...FAST });
      const fake = fakeProvider();
      fake.behaviour = () => (rand() < 0.3 ? fail("E_THROTTLED") : undefined);
      const s = makeStore(fake, values);
      registerStore(s);
      const got = await Promise.all(s.names.map((n) => secret(n))).catch(() => undefined);
      if (got?.every((v, i) => v === `v${i}`)) ok++;
      await dispose();
    }
    expect(ok).toBe(5);
  });
});

describe("full-jitter backoff", () => {
  it("stays within [0, min(cap, base·2^retry))", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 60_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, base, cap, r) => {
        const d = backoffDelay(retry, base, cap, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(cap, base * 2 ** retry));
      }),
    );
  });

  it("spreads over the whole range (not a fixed delay)", () => {
    const ds = Array.from({ length: 2000 }, () => backoffDelay(4, 50, 10_000));
    expect(Math.min(...ds)).toBeLessThan(80);
    expect(Math.max(...ds)).toBeGreaterThan(720);
  });

  it("classifies only transient errors as retryable", () => {
    expect(isRetryable(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(true);
    expect(isRetryable(new Error("x", { cause: { code: "ETIMEDOUT" } }))).toBe(true);
    expect(isRetryable(Object.assign(new Error("x"), { code: "ENOENT" }))).toBe(false);
  });
});

describe("several master keys", () => {
  it("fails over in order and prefers the key that worked last", async () => {
    const { fake, name, events } = store(undefined, ["primary", "secondary"]);
    fake.behaviour = ({ keyRef }) => (keyRef === "primary" ? fail("E_UNAVAILABLE") : undefined);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls.map((c) => c.keyRef)).toEqual(["primary", "secondary"]);
    await dispose();
    fake.calls.length = 0;
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls.map((c) => c.keyRef)).toEqual(["secondary"]);
    const failures = events.filter((e) => e.type === "unwrap.failure");
    expect(failures[0]).toMatchObject({ keyRef: "primary", code: "E_UNAVAILABLE", retryable: true });
  });

  it("moves on at once past a key that is denied, and never asks it again in that unwrap", async () => {
    const { fake, name } = store(undefined, ["a", "b"]);
    fake.behaviour = ({ keyRef, n }) => (keyRef === "a" ? fail("E_ACCESS_DENIED") : n < 4 ? fail("E_THROTTLED") : undefined);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls.map((c) => c.keyRef)).toEqual(["a", "b", "b", "b"]);
  });

  it("reports the primary's code when every key fails fast", async () => {
    const { fake, name } = store(undefined, ["a", "b"]);
    fake.behaviour = ({ keyRef }) => fail(keyRef === "a" ? "E_KEY_DISABLED" : "E_ACCESS_DENIED");
    const err = await secret(name).catch((e) => e);
    expect(err.code).toBe("E_KEY_DISABLED");
    expect(err.details.keys).toEqual([
      { keyRef: "a", code: "E_KEY_DISABLED" },
      { keyRef: "b", code: "E_ACCESS_DENIED" },
    ]);
  });
});

describe("key pinning", () => {
  it("refuses a record that names only keys the build did not pin, without calling the key service", async () => {
    configure({ ...FAST });
    const fake = fakeProvider();
    const s = makeStore(fake, { a: "alpha" }, ["attacker"]);
    registerStore(s, [`${fake.provider}:legit`]);
    const err = await secret(s.names[0] as string).catch((e) => e);
    expect(err.code).toBe("E_KEY_PINNING");
    expect(fake.calls).toHaveLength(0);
  });

  it("skips an unpinned key in the record and uses the pinned one", async () => {
    configure({ ...FAST });
    const fake = fakeProvider();
    const s = makeStore(fake, { a: "alpha" }, ["attacker", "legit"]);
    registerStore(s, [`${fake.provider}:legit`]);
    expect(await secret(s.names[0] as string)).toBe("alpha");
    expect(fake.calls.map((c) => c.keyRef)).toEqual(["legit"]);
  });

  it("a later registration without pins does not lift them", async () => {
    configure({ ...FAST });
    const fake = fakeProvider();
    const s = makeStore(fake, { a: "alpha" }, ["attacker"]);
    registerStore(s, [`${fake.provider}:legit`]);
    registerStore(s);
    expect((await secret(s.names[0] as string).catch((e) => e)).code).toBe("E_KEY_PINNING");
  });

  it("rejects malformed pins", () => {
    const fake = fakeProvider();
    const s = makeStore(fake, { a: "alpha" });
    expect(() => registerStore(s, ["no-colon"])).toThrow(TypeError);
  });
});
