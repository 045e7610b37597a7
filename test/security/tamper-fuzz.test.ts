/**
 * Tamper fuzzing (issue #10): mutate envelopes, data-key records and store files, and
 * check that every case ends in a SealkitError (or, for unauthenticated metadata such as
 * timestamps in a store file, in exactly the original value) — never wrong or partial
 * plaintext, never another kind of exception. 10,000+ cases in all; fast-check prints the
 * seed on failure, and FC_SEED=<seed> replays a run.
 */
import fc from "fast-check";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  SealkitError,
  decodeEnvelope,
  decodeKeyRecord,
  encodeEnvelope,
  encodeKeyRecord,
  guardProvider,
  keyRecordOf,
  newDataKey,
  openValue,
  parseStore,
  sealValue,
  serializeStore,
  storedEnvelope,
  storedSecret,
  wrapContext,
} from "@sealkit/envelope";
import { generateLocalKey, localProvider } from "@sealkit/envelope/local";
import type { StoreFile } from "@sealkit/envelope";

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

const storeId = "Rnp6U3RvcmVJZDAwMDAwMA";
const otherStoreId = "T3RoZXJTdG9yZUlkMDAwMA";
const values: Record<string, string> = {
  "db-password": "correct horse battery staple",
  "api-token": "tok_live_0123456789",
  short: "x",
};
const provider = guardProvider(localProvider({ key: generateLocalKey() }));
const dataKey = newDataKey();
const dataKey2 = newDataKey();
let store: StoreFile;
let storeText: string;
let keyRecordText: string;
const envelopes: Record<string, string> = {};

/** Error codes seen, so each property can show its mutations reached the cryptography. */
const seen = new Map<string, number>();

/** Runs fn; the outcome must be a SealkitError or `allowed` (the untampered result). */
async function mustFailTyped<T>(fn: () => Promise<T> | T, allowed?: (r: T) => boolean): Promise<"error" | "same"> {
  let r: T;
  try {
    r = await fn();
  } catch (e) {
    if (!(e instanceof SealkitError)) throw new Error(`untyped failure: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    seen.set(e.code, (seen.get(e.code) ?? 0) + 1);
    return "error";
  }
  if (allowed?.(r)) return "same";
  throw new Error("a tampered input opened to something other than the original value");
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const text = (s: string) => new TextEncoder().encode(s);

// Mostly characters that keep the text near-valid (base64url, separators, JSON), some arbitrary.
const nearValid = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:=+/{}[]\",. 1";
const aChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...nearValid.split("")) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);

/** A textual mutation: replace, insert, delete, truncate, extend, swap two chars. */
const mutation = (len: number) =>
  fc.oneof(
    fc.record({ kind: fc.constant("replace" as const), at: fc.nat(len - 1), ch: aChar }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(len), ch: fc.string({ unit: aChar, minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(len - 1), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(len - 1) }),
    fc.record({ kind: fc.constant("extend" as const), ch: fc.string({ unit: aChar, minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant("swap" as const), a: fc.nat(len - 1), b: fc.nat(len - 1) }),
  );
type Mutation = { kind: string; at?: number; ch?: string; n?: number; a?: number; b?: number };
function apply(s: string, m: Mutation): string {
  switch (m.kind) {
    case "replace":
      return s.slice(0, m.at) + m.ch + s.slice((m.at as number) + 1);
    case "insert":
      return s.slice(0, m.at) + m.ch + s.slice(m.at);
    case "delete":
      return s.slice(0, m.at) + s.slice((m.at as number) + (m.n as number));
    case "truncate":
      return s.slice(0, m.at);
    case "extend":
      return s + m.ch;
    default: {
      const c = s.split("");
      [c[m.a as number], c[m.b as number]] = [c[m.b as number] as string, c[m.a as number] as string];
      return c.join("");
    }
  }
}

beforeAll(async () => {
  const t = "2026-12-03T00:00:00.000Z";
  const rec = await provider.wrapKey(dataKey, { keyRef: "local", context: wrapContext(storeId, 2) });
  const secrets: Record<string, ReturnType<typeof storedSecret>> = {};
  for (const [name, v] of Object.entries(values)) {
    const env = sealValue(dataKey, { storeId, generation: 2, name }, v);
    envelopes[name] = encodeEnvelope(env);
    secrets[name] = storedSecret(env, t);
  }
  store = { version: 1, storeId, generation: 2, createdAt: t, dataKeyCreatedAt: t, keys: [{ ...rec, createdAt: t }], secrets };
  storeText = serializeStore(store);
  keyRecordText = encodeKeyRecord(keyRecordOf(store));
});

describe("tamper fuzzing", () => {
  beforeEach(() => seen.clear());

  it("mutated compact envelopes never open (4,000 cases)", async () => {
    const names = Object.keys(values);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names).chain((name) => fc.tuple(fc.constant(name), mutation((envelopes[name] as string).length))),
        async ([name, m]) => {
          const original = envelopes[name] as string;
          const mutated = apply(original, m);
          fc.pre(mutated !== original);
          await mustFailTyped(() => openValue(dataKey, decodeEnvelope(mutated)));
        },
      ),
      { numRuns: 4000 },
    );
    // Both layers were exercised: format checks and the GCM tag.
    expect(seen.get("E_FORMAT")).toBeGreaterThan(100);
    expect(seen.get("E_AUTH")).toBeGreaterThan(100);
  });

  it("envelopes swapped between names, moved to another store, or replayed across generations never open (1,000 cases)", async () => {
    const names = Object.keys(values);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.constantFrom(...names),
        fc.constantFrom("swap", "store", "generation", "key"),
        async (from, to, how) => {
          const env = decodeEnvelope(envelopes[from] as string);
          if (how === "swap") {
            fc.pre(from !== to);
            await mustFailTyped(() => openValue(dataKey, { ...env, name: to }));
          } else if (how === "store") {
            await mustFailTyped(() => openValue(dataKey, { ...env, storeId: otherStoreId }));
          } else if (how === "generation") {
            // An older generation's envelope under the newer generation's data key, and relabelled.
            await mustFailTyped(() => openValue(dataKey2, env));
            await mustFailTyped(() => openValue(dataKey, { ...env, generation: env.generation + 1 }));
          } else {
            await mustFailTyped(() => openValue(newDataKey(), env));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("mutated data-key records never unwrap to a wrong key (3,000 cases)", async () => {
    await fc.assert(
      fc.asyncProperty(mutation(keyRecordText.length), async (m) => {
        const mutated = apply(keyRecordText, m);
        fc.pre(mutated !== keyRecordText);
        await mustFailTyped(
          async () => {
            const rec = decodeKeyRecord(mutated);
            return provider.unwrapKey(rec.keys[0] as never);
          },
          (k) => eq(k, dataKey),
        );
      }),
      { numRuns: 3000 },
    );
    expect(seen.get("E_FORMAT")).toBeGreaterThan(100);
    expect((seen.get("E_AUTH") ?? 0) + (seen.get("E_KEY_PINNING") ?? 0)).toBeGreaterThan(10);
  });

  it("record fields changed one at a time: key reference, context, provider, wrapped bytes (1,000 cases)", async () => {
    const rec = store.keys[0] as (typeof store.keys)[0];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string().map((keyRef) => ({ ...rec, keyRef })),
          fc.constant({ ...rec, keyRef: "local" }),
          fc.constant({ ...rec, keyRef: "local:00000000" }),
          fc.dictionary(fc.string(), fc.string()).map((context) => ({ ...rec, context })),
          fc.constant({ ...rec, context: wrapContext(otherStoreId, 2) }),
          fc.constant({ ...rec, context: wrapContext(storeId, 1) }),
          fc.uint8Array({ minLength: 0, maxLength: 80 }).map((b) => ({ ...rec, wrapped: Buffer.from(b).toString("base64") })),
        ),
        async (changed) => {
          fc.pre(JSON.stringify(changed) !== JSON.stringify(rec));
          await mustFailTyped(() => provider.unwrapKey(changed), (k) => eq(k, dataKey));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("mutated store files either fail typed or open to exactly the original values (2,000 cases)", async () => {
    await fc.assert(
      fc.asyncProperty(mutation(storeText.length), async (m) => {
        const mutated = apply(storeText, m);
        fc.pre(mutated !== storeText);
        let parsed: StoreFile;
        try {
          parsed = parseStore(mutated, "fuzz.json");
        } catch (e) {
          if (!(e instanceof SealkitError)) throw e;
          return;
        }
        for (const name of Object.keys(parsed.secrets)) {
          await mustFailTyped(
            async () => {
              const k = await provider.unwrapKey(parsed.keys[0] as never);
              return openValue(k, storedEnvelope(parsed, name));
            },
            (v) => name in values && eq(v, text(values[name] as string)),
          );
        }
      }),
      { numRuns: 2000 },
    );
  });
});
