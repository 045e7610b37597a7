import { afterEach, describe, expect, it } from "vitest";
import { ENVELOPE_QUEUE } from "@sealkit/envelope";
import { configure, preload, register, secret, secretBytes } from "@sealkit/runtime";
import { fail, fakeProvider, makeStore, registerStore, reset } from "./_fake.js";

afterEach(reset);

describe("one unwrap per store per cold start", () => {
  it("1,000 concurrent first reads make one key-service call", async () => {
    const fake = fakeProvider();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fake.behaviour = () => gate;
    const values = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, `value-${i}`]));
    const store = makeStore(fake, values);
    registerStore(store);
    const reads = Array.from({ length: 1000 }, (_, i) => secret(store.names[i % 20] as string));
    release();
    const got = await Promise.all(reads);
    expect(fake.calls).toHaveLength(1);
    expect(got).toEqual(reads.map((_, i) => `value-${i % 20}`));
  });

  it("preload() unwraps once, and later reads make no call", async () => {
    const fake = fakeProvider();
    const store = makeStore(fake, { a: "alpha", b: "beta" });
    registerStore(store);
    await preload();
    expect(fake.calls).toHaveLength(1);
    expect(await secret(store.names[0] as string)).toBe("alpha");
    expect(new TextDecoder().decode(await secretBytes(store.names[1] as string))).toBe("beta");
    expect(fake.calls).toHaveLength(1);
  });

  it("a failed unwrap is not cached: the next read tries again", async () => {
    const fake = fakeProvider();
    fake.behaviour = ({ n }) => (n === 1 ? fail("E_ACCESS_DENIED") : undefined);
    const store = makeStore(fake, { a: "alpha" });
    registerStore(store);
    const name = store.names[0] as string;
    const first = await Promise.allSettled([secret(name), secret(name), secret(name)]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(fake.calls).toHaveLength(1);
    expect(await secret(name)).toBe("alpha");
    expect(fake.calls).toHaveLength(2);
  });

  it("an unknown name is E_NOT_FOUND and names the fix", async () => {
    configure({});
    const err = await secret("never-registered-xyz").catch((e) => e);
    expect(err.code).toBe("E_NOT_FOUND");
  });
});

describe("envelopes queued in the realm (the Vite plugin's chunks)", () => {
  const queue = () => {
    const g = globalThis as Record<symbol, unknown[] | undefined>;
    const key = Symbol.for(ENVELOPE_QUEUE);
    g[key] ??= [];
    return g[key] as unknown[];
  };

  it("a chunk may queue its envelopes before or after the runtime loaded; one unwrap serves them all", async () => {
    const fake = fakeProvider();
    const store = makeStore(fake, { a: "alpha", b: "beta", c: "gamma" });
    const [a, b, c] = store.names as [string, string, string];
    register(store.keyRecord, {}); // the stand-in: the data-key record, no envelopes
    queue().push({ [a]: store.envelopes[a] }, null, "junk", { [b]: 42 }); // junk is ignored
    expect(await secret(a)).toBe("alpha");
    // b's entry above was not a string: not registered
    expect((await secret(b).catch((e) => e)).code).toBe("E_NOT_FOUND");
    queue().push({ [b]: store.envelopes[b], [c]: store.envelopes[c] }); // a chunk loaded later
    expect([await secret(b), await secret(c)]).toEqual(["beta", "gamma"]);
    expect(fake.calls).toHaveLength(1);
  });

  it("an envelope queued without its store's record fails as a build problem, with no plaintext", async () => {
    const fake = fakeProvider();
    const store = makeStore(fake, { a: "alpha" });
    const name = store.names[0] as string;
    queue().push({ [name]: store.envelopes[name] });
    const err = await secret(name).catch((e) => e);
    expect(err.code).toBe("E_CONFIG");
    expect(String(err.message)).not.toContain("alpha");
    expect(fake.calls).toHaveLength(0);
  });
});
