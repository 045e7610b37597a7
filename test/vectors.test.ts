import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeEnvelope,
  decodeKeyRecord,
  guardProvider,
  openValue,
  parseStore,
  storedEnvelope,
} from "@sealkit/envelope";
import { localProvider } from "@sealkit/envelope/local";

const dir = join(import.meta.dirname, "vectors");
const load = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8"));
const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

describe("frozen v1 test vectors", () => {
  const env = load("v1-envelopes.json");
  const local = load("v1-local.json");

  it("opens every compact envelope", () => {
    expect(env.envelopes.length).toBe(4);
    for (const v of env.envelopes) {
      const e = decodeEnvelope(v.envelope);
      expect(e.name).toBe(v.name);
      expect(Buffer.from(openValue(hex(env.dataKeyHex), e)).toString("hex")).toBe(v.plaintextHex);
    }
  });

  it("opens the store file through the local provider", async () => {
    const store = parseStore(readFileSync(join(dir, "v1-store.secrets.json"), "utf8"), "v1-store.secrets.json");
    const provider = guardProvider(localProvider({ key: local.masterKeyBase64 }));
    const dataKey = await provider.unwrapKey(store.keys[0]!);
    expect(Buffer.from(dataKey).toString("hex")).toBe(local.dataKeyHex);
    for (const v of env.envelopes) {
      expect(Buffer.from(openValue(dataKey, storedEnvelope(store, v.name))).toString("hex")).toBe(v.plaintextHex);
    }
    expect(store.keys[0]!.keyRef).toBe(local.keyRef);
  });

  it("decodes the data-key record and unwraps it", async () => {
    const rec = decodeKeyRecord(local.keyRecord);
    expect(rec.storeId).toBe(env.storeId);
    expect(rec.generation).toBe(env.generation);
    const provider = guardProvider(localProvider({ key: local.masterKeyBase64 }));
    expect(Buffer.from(await provider.unwrapKey(rec.keys[0]!)).toString("hex")).toBe(local.dataKeyHex);
  });
});
