import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseStore, registerProvider, serializeStore } from "@sealkit/envelope";
import { generateLocalKey, localProvider } from "@sealkit/envelope/local";
import {
  didYouMean,
  getSecret,
  initStore,
  listSecrets,
  readStoreFile,
  removeSecret,
  setSecret,
  setSecrets,
  verifyStore,
  withStoreLock,
} from "@sealkit/store";

const te = new TextEncoder();
let dir: string;
let path: string;

beforeAll(async () => {
  registerProvider(localProvider({ key: generateLocalKey() }));
  dir = await mkdtemp(join(tmpdir(), "sk-store-"));
  path = join(dir, "sealkit.secrets.json");
  await initStore({ path, masterKeys: [{ provider: "local", keyRef: "local" }] });
});

describe("store operations", () => {
  it("sets, gets, lists and removes", async () => {
    expect((await setSecret(path, "b", te.encode("two"))).created).toBe(true);
    expect((await setSecret(path, "a", te.encode("one"))).created).toBe(true);
    expect((await setSecret(path, "a", te.encode("uno"))).created).toBe(false);
    expect(new TextDecoder().decode(await getSecret(path, "a"))).toBe("uno");
    expect((await listSecrets(path)).secrets.map((s) => s.name)).toEqual(["a", "b"]);
    await removeSecret(path, "b");
    await expect(getSecret(path, "b")).rejects.toMatchObject({ code: "E_NOT_FOUND" });
    expect((await verifyStore(path)).failed).toEqual([]);
  });

  it("bulk set lands all values in one write", async () => {
    const r = await setSecrets(path, new Map([["x1", te.encode("1")], ["x2", te.encode("2")]]));
    expect(r.created.sort()).toEqual(["x1", "x2"]);
  });

  it("leaves no temp files behind", () => {
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("serializes deterministically: sorted names, one line each, and round-trips", async () => {
    const text = readFileSync(path, "utf8");
    const store = parseStore(text, path);
    expect(serializeStore(store)).toBe(text);
    const names = text.split("\n").filter((l) => l.includes('"nonce"')).map((l) => l.trim().split('"')[1]);
    expect(names).toEqual([...names].sort());
  });

  it("refuses to init over an existing store", async () => {
    await expect(initStore({ path, masterKeys: [{ provider: "local", keyRef: "local" }] })).rejects.toMatchObject({
      code: "E_CONFIG",
    });
  });

  it("a second writer waits for the lock, then fails clearly if it is held too long", async () => {
    let release!: () => void;
    const held = withStoreLock(path, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    const err = await setSecret(path, "late", te.encode("v")).catch((e) => e);
    expect(err.code).toBe("E_LOCKED");
    expect(err.message).toContain(".lock");
    release();
    await held;
    await setSecret(path, "late", te.encode("v"));
  }, 20_000);

  it("validation errors name the file and the field", async () => {
    const bad = join(dir, "bad.json");
    const s = JSON.parse(readFileSync(path, "utf8"));
    s.keys[0].wrapped = "@@@";
    writeFileSync(bad, JSON.stringify(s));
    const err = await readStoreFile(bad).catch((e) => e);
    expect(err.code).toBe("E_FORMAT");
    expect(err.message).toContain(bad);
    expect(err.message).toContain("keys[0]");
  });
});

describe("did you mean", () => {
  it("suggests close names only", () => {
    expect(didYouMean("db-pasword", ["db-password", "api-token"])).toBe("db-password");
    expect(didYouMean("DB-PASSWORD", ["db-password"])).toBe("db-password");
    expect(didYouMean("zzzzzz", ["db-password", "api-token"])).toBeUndefined();
  });
});
