/**
 * Test support: a fake key provider that counts calls and fails or delays on demand, and a
 * store (data key, data-key record, envelopes) built for it.
 */
import {
  type KeyProvider,
  SealkitError,
  type ErrorCode,
  encodeEnvelope,
  encodeKeyRecord,
  newDataKey,
  newStoreId,
  registerProvider,
  sealValue,
  toBase64,
  wrapContext,
} from "@sealkit/envelope";
import { configure, dispose, register } from "@sealkit/runtime";

let seq = 0;

export type Behaviour = (call: { n: number; keyRef: string; signal?: AbortSignal }) => Promise<void> | void;

export interface Fake {
  provider: string;
  calls: { keyRef: string; signal?: AbortSignal }[];
  /** Every data-key buffer handed to the runtime, to check they get wiped. */
  handed: Uint8Array[];
  /** Decides per call: throw to fail, await to delay. */
  behaviour: Behaviour;
}

/** Makes a provider whose "wrapped" bytes are the data key XOR 0x5a (a toy, for tests only). */
export function fakeProvider(): Fake {
  const fake: Fake = { provider: `fake${++seq}`, calls: [], handed: [], behaviour: () => {} };
  const p: KeyProvider = {
    id: fake.provider,
    async wrap(dataKey) {
      return { wrapped: dataKey.map((b) => b ^ 0x5a) };
    },
    async unwrap(wrapped, call) {
      fake.calls.push({ keyRef: call.keyRef, ...(call.signal ? { signal: call.signal } : {}) });
      await fake.behaviour({ n: fake.calls.length, keyRef: call.keyRef, ...(call.signal ? { signal: call.signal } : {}) });
      const key = wrapped.map((b) => b ^ 0x5a);
      fake.handed.push(key);
      return key;
    },
  };
  registerProvider(p);
  return fake;
}

export const fail = (code: ErrorCode) => {
  throw new SealkitError(code, `fake ${code}`);
};

/** Resolves when `signal` aborts (a provider honouring the per-attempt timeout), else never. */
export const hang = (signal?: AbortSignal) =>
  new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));

export interface TestStore {
  storeId: string;
  dataKey: Uint8Array;
  keyRecord: string;
  envelopes: Record<string, string>;
  names: string[];
}

/** A store wrapped under each given master key (`keyRefs` of the fake provider), with values. */
export function makeStore(fake: Fake, values: Record<string, string>, keyRefs = ["k1"]): TestStore {
  const storeId = newStoreId();
  const dataKey = newDataKey();
  const context = wrapContext(storeId, 1);
  const keyRecord = encodeKeyRecord({
    version: 1,
    storeId,
    generation: 1,
    keys: keyRefs.map((keyRef) => ({ provider: fake.provider, keyRef, wrapped: toBase64(dataKey.map((b) => b ^ 0x5a)), context })),
  });
  const envelopes: Record<string, string> = {};
  const names: string[] = [];
  for (const [short, value] of Object.entries(values)) {
    const name = `${short}-${storeId.slice(0, 6).replace(/[^A-Za-z0-9]/g, "x")}`;
    names.push(name);
    envelopes[name] = encodeEnvelope(sealValue(dataKey, { storeId, generation: 1, name }, value));
  }
  return { storeId, dataKey, keyRecord, envelopes, names };
}

export function registerStore(store: TestStore, pins?: string[]): void {
  register(store.keyRecord, store.envelopes, pins ? { pins } : {});
}

/** A clock the test moves by hand. */
export function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (t: number) => void (now = t) };
}

/** Fast retries for tests that exercise them; everything else stays at its default. */
export const FAST = { backoff: 1, backoffCap: 4 } as const;

export async function reset(): Promise<void> {
  await dispose();
  configure({
    ttl: undefined,
    refreshAhead: undefined,
    staleIfError: undefined,
    timeout: undefined,
    deadline: undefined,
    attempts: undefined,
    backoff: undefined,
    backoffCap: undefined,
    onEvent: undefined,
    log: undefined,
    clock: undefined,
  });
}

export const isZero = (b: Uint8Array) => b.every((x) => x === 0);
