import { afterEach, describe, expect, it } from "vitest";
import { type SealkitEvent, configure, dispose, secret } from "@sealkit/runtime";
import { FAST, fail, fakeClock, fakeProvider, hang, isZero, makeStore, registerStore, reset } from "./_fake.js";

afterEach(reset);

const flush = () => new Promise((r) => setTimeout(r, 0));

function setup(options: Parameters<typeof configure>[0] = {}) {
  const clock = fakeClock();
  const events: SealkitEvent[] = [];
  configure({ ttl: 60_000, refreshAhead: 10_000, clock: clock.now, onEvent: (e) => events.push(e), ...FAST, ...options });
  const fake = fakeProvider();
  const store = makeStore(fake, { a: "alpha" });
  registerStore(store);
  return { clock, events, fake, name: store.names[0] as string };
}

describe("data-key cache", () => {
  it("uses the key until the TTL ends, then wipes it and unwraps again", async () => {
    const { clock, fake, name, events } = setup({ refreshAhead: 0 });
    expect(await secret(name)).toBe("alpha");
    clock.advance(59_999);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(1);
    const first = fake.handed[0] as Uint8Array;
    expect(isZero(first)).toBe(false);
    clock.advance(1);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2);
    expect(isZero(first)).toBe(true);
    expect(events.map((e) => e.type)).toContain("cache.expired");
  });

  it("dispose() wipes the key; the next read unwraps again", async () => {
    const { fake, name } = setup();
    await secret(name);
    await dispose();
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(true);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2);
  });

  it("an unwrap that lands after dispose() is wiped, not installed", async () => {
    const { fake, name } = setup();
    let release!: () => void;
    fake.behaviour = () => new Promise<void>((r) => (release = r));
    const read = secret(name).catch((e) => e);
    await flush();
    await dispose();
    release();
    expect((await read).code).toBe("E_CONFIG");
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(true);
  });

  it("refresh-ahead: near expiry a read returns at once and a background unwrap replaces the key", async () => {
    const { clock, fake, name, events } = setup();
    await secret(name);
    let release!: () => void;
    fake.behaviour = () => new Promise<void>((r) => (release = r));
    clock.advance(50_001); // inside the 10 s refresh-ahead window
    // The read does not wait for the (blocked) refresh.
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2); // one refresh at a time
    release();
    await flush();
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(true);
    clock.advance(20_000); // past the first key's expiry, within the new key's TTL
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2);
    expect(events.filter((e) => e.type === "cache.refresh")).toHaveLength(1);
  });

  it("a failed background refresh keeps the current key and waits before trying again", async () => {
    const { clock, fake, name } = setup({ attempts: 1 });
    await secret(name);
    fake.behaviour = () => fail("E_UNAVAILABLE");
    clock.advance(55_000);
    expect(await secret(name)).toBe("alpha");
    await flush();
    expect(fake.calls).toHaveLength(2);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2); // paused
    clock.advance(4_000);
    fake.behaviour = () => {};
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2); // still inside the 5 s pause
  });
});

describe("stale-if-error", () => {
  it("fail closed (0): after expiry a transient failure fails the read and the old key is wiped", async () => {
    const { clock, fake, name } = setup({ staleIfError: 0, refreshAhead: 0, attempts: 2 });
    await secret(name);
    fake.behaviour = () => fail("E_UNAVAILABLE");
    clock.advance(60_000);
    const err = await secret(name).catch((e) => e);
    expect(err.code).toBe("E_UNAVAILABLE");
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(true);
  });

  it("a window: the old key serves while the key service fails transiently, then reads fail closed", async () => {
    const { clock, fake, name, events } = setup({ staleIfError: 30_000, refreshAhead: 0, attempts: 2 });
    await secret(name);
    fake.behaviour = () => fail("E_THROTTLED");
    clock.advance(60_000);
    expect(await secret(name)).toBe("alpha"); // waited for the refresh, which failed: stale
    const calls = fake.calls.length;
    expect(await secret(name)).toBe("alpha"); // served stale at once, no new call (pause)
    expect(fake.calls.length).toBe(calls);
    expect(events.some((e) => e.type === "cache.stale" && e.code === "E_THROTTLED")).toBe(true);
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(false);
    clock.advance(30_000); // the window is over
    const err = await secret(name).catch((e) => e);
    expect(err.code).toBe("E_THROTTLED");
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(true);
  });

  it("the service recovering inside the window installs a fresh key", async () => {
    const { clock, fake, name } = setup({ staleIfError: 30_000, refreshAhead: 0, attempts: 1 });
    await secret(name);
    fake.behaviour = () => fail("E_TIMEOUT");
    clock.advance(60_000);
    expect(await secret(name)).toBe("alpha");
    fake.behaviour = () => {};
    clock.advance(5_000);
    expect(await secret(name)).toBe("alpha"); // stale, and starts a background refresh
    await flush();
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(true);
    clock.advance(40_000); // past the window of the old key, inside the new TTL
    const before = fake.calls.length;
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls.length).toBe(before);
  });

  it("a denial is never papered over, even inside the window", async () => {
    const { clock, fake, name } = setup({ staleIfError: 30_000, refreshAhead: 0 });
    await secret(name);
    fake.behaviour = () => fail("E_ACCESS_DENIED");
    clock.advance(60_000);
    const err = await secret(name).catch((e) => e);
    expect(err.code).toBe("E_ACCESS_DENIED");
    expect(isZero(fake.handed[0] as Uint8Array)).toBe(true);
  });

  it("a per-attempt timeout counts as transient", async () => {
    const { clock, fake, name } = setup({ staleIfError: 30_000, refreshAhead: 0, attempts: 1, timeout: 20 });
    await secret(name);
    fake.behaviour = ({ signal }) => hang(signal);
    clock.advance(60_000);
    expect(await secret(name)).toBe("alpha");
  });
});
