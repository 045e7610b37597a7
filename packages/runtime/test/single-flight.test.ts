import { afterEach, describe, expect, it } from "vitest";
import { configure, preload, secret, secretBytes } from "@sealkit/runtime";
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
