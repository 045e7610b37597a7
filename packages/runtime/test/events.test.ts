import { afterEach, describe, expect, it, vi } from "vitest";
import { toBase64 } from "@sealkit/envelope";
import { type SealkitEvent, configure, dispose, secret, secretBytes } from "@sealkit/runtime";
import { FAST, fail, fakeClock, fakeProvider, makeStore, registerStore, reset } from "./_fake.js";

afterEach(async () => {
  vi.restoreAllMocks();
  delete process.env.SEALKIT_LOG;
  delete process.env.SEALKIT_TTL;
  delete process.env.SEALKIT_ATTEMPTS;
  await reset();
});

const CANARY = "canary-7f3a9c1e-do-not-log";

function forms(bytes: Uint8Array): string[] {
  const b64 = toBase64(bytes);
  return [Buffer.from(bytes).toString("hex"), b64, b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), encodeURIComponent(b64)];
}

describe("audit events and JSON logs", () => {
  it("cover the lifecycle and never carry a value or a key", async () => {
    const clock = fakeClock();
    const events: SealkitEvent[] = [];
    process.env.SEALKIT_LOG = "json";
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    configure({ ...FAST, ttl: 10_000, refreshAhead: 2_000, staleIfError: 5_000, clock: clock.now, onEvent: (e) => events.push(e) });
    const fake = fakeProvider();
    const s = makeStore(fake, { canary: CANARY, other: "x" });
    registerStore(s);
    const name = s.names[0] as string;
    fake.behaviour = ({ n }) => (n === 1 ? fail("E_THROTTLED") : undefined);
    expect(await secret(name)).toBe(CANARY);
    expect(new TextDecoder().decode(await secretBytes(name))).toBe(CANARY);
    clock.advance(9_000);
    await secret(name); // refresh-ahead
    await new Promise((r) => setTimeout(r, 10));
    clock.advance(20_000);
    fake.behaviour = () => fail("E_UNAVAILABLE");
    await secret(name).catch(() => {});
    await dispose();

    const types = new Set(events.map((e) => e.type));
    for (const t of ["unwrap.start", "unwrap.success", "unwrap.failure", "cache.miss", "cache.hit", "cache.refresh", "cache.expired", "cache.wiped", "secret.read"]) {
      expect(types).toContain(t);
    }
    const read = events.find((e) => e.type === "secret.read");
    expect(read).toMatchObject({ name, storeId: s.storeId });
    const success = events.find((e) => e.type === "unwrap.success");
    expect(success).toMatchObject({ provider: fake.provider, keyRef: "k1", storeId: s.storeId });
    expect(typeof success?.durationMs).toBe("number");

    // One JSON line per event, on the error stream.
    expect(lines).toHaveLength(events.length);
    for (const line of lines) expect(JSON.parse(line).source).toBe("sealkit");

    const everything = JSON.stringify(events) + lines.join("\n");
    const secretsAndKeys = [new TextEncoder().encode(CANARY), s.dataKey, ...fake.handed.filter((k) => k.some((b) => b))];
    expect(everything).not.toContain(CANARY);
    for (const b of secretsAndKeys) for (const f of forms(b)) expect(everything).not.toContain(f);
    // The data keys the provider handed over were all wiped by dispose().
    for (const k of fake.handed) expect(k.every((b) => b === 0)).toBe(true);
  });

  it("a throwing hook does not break a read", async () => {
    configure({ onEvent: () => {
      throw new Error("hook");
    } });
    const fake = fakeProvider();
    const s = makeStore(fake, { a: "alpha" });
    registerStore(s);
    expect(await secret(s.names[0] as string)).toBe("alpha");
  });

  it("errors carry no value or key either", async () => {
    configure({ ...FAST, attempts: 2 });
    const fake = fakeProvider();
    const s = makeStore(fake, { canary: CANARY });
    registerStore(s);
    fake.behaviour = () => fail("E_UNAVAILABLE");
    const err = await secret(s.names[0] as string).catch((e) => e);
    const text = JSON.stringify(err) + String(err.message) + String(err.stack);
    expect(text).not.toContain(CANARY);
    for (const f of forms(s.dataKey)) expect(text).not.toContain(f);
  });
});

describe("configuration", () => {
  it("environment variables override code, without a rebuild", async () => {
    const clock = fakeClock();
    configure({ ttl: 1_000, refreshAhead: 0, clock: clock.now });
    process.env.SEALKIT_TTL = "2s";
    configure({}); // settings are read again on configure()
    const fake = fakeProvider();
    const s = makeStore(fake, { a: "alpha" });
    registerStore(s);
    await secret(s.names[0] as string);
    clock.advance(1_500);
    await secret(s.names[0] as string);
    expect(fake.calls).toHaveLength(1); // 2 s from the env, not 1 s from code
    clock.advance(600);
    await secret(s.names[0] as string);
    expect(fake.calls).toHaveLength(2);
  });

  it("a bad environment value is E_CONFIG naming the variable", () => {
    process.env.SEALKIT_ATTEMPTS = "many";
    let err: any;
    try {
      configure({});
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe("E_CONFIG");
    expect(err.message).toContain("SEALKIT_ATTEMPTS");
  });

  it("rejects bad values and unknown options in code", () => {
    expect(() => configure({ ttl: -1 })).toThrow(/ttl/);
    expect(() => configure({ attempts: 1.5 })).toThrow(/attempts/);
    expect(() => configure({ log: "yaml" as "json" })).toThrow(/log/);
    expect(() => configure({ tll: 5 } as never)).toThrow(/tll/);
  });
});
