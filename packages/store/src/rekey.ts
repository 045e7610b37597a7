import {
  type GuardedProvider,
  SealkitError,
  type StoreFile,
  type StoredKey,
  type WrappedKey,
  getProvider,
  isSealkitError,
  unwrapFirst,
  wipe,
  wrapContext,
} from "@sealkit/envelope";
import { faultPoint } from "./faults.js";
import { readStoreFile, withStoreLock, writeStoreFile } from "./file.js";
import { type MasterKey, verifyWrap } from "./ops.js";

/**
 * Turns a recorded master-key reference into the one to wrap under now, for providers
 * whose `wrap` pins a version (a versioned Key Vault URL, say): without this, a re-wrap
 * "under the current version" would wrap under the pinned old one again. The CLI takes it
 * from the provider package's optional `currentKeyRef` export; identity by default.
 */
export type CurrentKeyRef = (key: MasterKey) => string | Promise<string>;

/** What `rekey` should do with the master keys of a store or a bundle's data-key record. */
export interface RekeyTarget {
  /** Replace every master key by these (a move). */
  to?: readonly MasterKey[];
  /** Add these master keys; the existing ones are kept as they are. */
  add?: readonly MasterKey[];
  /** Drop the master keys matching these (`keyRef`, or `provider:keyRef`). */
  remove?: readonly string[];
  currentKeyRef?: CurrentKeyRef;
}

/** One line of a rekey plan. */
export interface RekeyStep {
  /** `refresh`: re-wrap under the current version; `add`: wrap under a new key; `keep`; `remove`. */
  action: "refresh" | "add" | "keep" | "remove";
  provider: string;
  keyRef: string;
  /** For refresh/add: how the new wrap is made (known once the provider is loaded). */
  method?: "server-rewrap" | "unwrap-wrap";
  /** For refresh/add: the key reference the new wrap recorded. */
  newKeyRef?: string;
}

const matches = (k: WrappedKey | MasterKey, sel: string) => sel === k.keyRef || sel === `${k.provider}:${k.keyRef}`;

/** Works out the steps without calling any key service. Refuses to leave no master key. */
export function planRekey(records: readonly WrappedKey[], t: RekeyTarget): RekeyStep[] {
  const steps: RekeyStep[] = [];
  if (t.to && (t.add?.length || t.remove?.length)) {
    throw new SealkitError("E_INPUT", "--to-key replaces every master key: do not combine it with --add-key or --remove-key");
  }
  if (t.to) {
    if (t.to.length === 0) throw new SealkitError("E_INPUT", "--to-key needs a master key");
    for (const r of records) steps.push({ action: "remove", provider: r.provider, keyRef: r.keyRef });
    for (const mk of t.to) steps.push({ action: "add", provider: mk.provider, keyRef: mk.keyRef });
    return steps;
  }
  const remove = t.remove ?? [];
  for (const sel of remove) {
    if (!records.some((r) => matches(r, sel))) {
      throw new SealkitError("E_NOT_FOUND", `no master key ${sel} to remove; the keys are: ${records.map((r) => `${r.provider}:${r.keyRef}`).join(", ")}`, {
        details: { keyRef: sel },
      });
    }
  }
  const onlyRefresh = !t.add?.length && remove.length === 0;
  for (const r of records) {
    const action = remove.some((sel) => matches(r, sel)) ? "remove" : onlyRefresh ? "refresh" : "keep";
    steps.push({ action, provider: r.provider, keyRef: r.keyRef });
  }
  for (const mk of t.add ?? []) {
    if (records.some((r) => r.provider === mk.provider && matches(r, mk.keyRef))) {
      throw new SealkitError("E_INPUT", `master key ${mk.provider}:${mk.keyRef} already wraps this data key; use plain \`sealkit rekey\` to re-wrap it`, {
        details: { provider: mk.provider, keyRef: mk.keyRef },
      });
    }
    steps.push({ action: "add", provider: mk.provider, keyRef: mk.keyRef });
  }
  if (!steps.some((s) => s.action !== "remove")) {
    throw new SealkitError("E_INPUT", "refusing to remove the last master key: nothing could open the store afterwards (add another key first)");
  }
  return steps;
}

/** Fills in each step's method from the provider's capability (loads providers, no key-service call). */
export async function describeMethods(records: readonly WrappedKey[], steps: RekeyStep[]): Promise<RekeyStep[]> {
  const out: RekeyStep[] = [];
  for (const s of steps) {
    if (s.action === "refresh" || s.action === "add") {
      const p = await getProvider(s.provider);
      const source = s.action === "refresh" ? records.find((r) => r.keyRef === s.keyRef && r.provider === s.provider) : records.find((r) => r.provider === s.provider);
      out.push({ ...s, method: p.canRewrap && source ? "server-rewrap" : "unwrap-wrap" });
    } else out.push({ ...s });
  }
  return out;
}

/**
 * Applies a plan to the wrapped data keys of one store generation. The data key stays the
 * same: values and generation are untouched. Where the provider can re-wrap on the server
 * (AWS ReEncrypt), the data key is not sent to the re-wrap. Every new wrap is then
 * unwrapped and compared with the data key before anything is returned (that check is the
 * one unwrap that a server-side re-wrap cannot avoid). Key-service calls: one unwrap, plus
 * two per new wrap, however many secrets the store holds.
 */
export async function rekeyRecords(
  records: readonly WrappedKey[],
  steps: readonly RekeyStep[],
  where: { storeId: string; generation: number },
  currentKeyRef: CurrentKeyRef = (k) => k.keyRef,
): Promise<{ keys: WrappedKey[]; steps: RekeyStep[] }> {
  const context = wrapContext(where.storeId, where.generation);
  let dataKey: Uint8Array | undefined;
  const theDataKey = async () => {
    dataKey ??= (await unwrapFirst(records)).dataKey;
    return dataKey;
  };
  try {
    // Unwrap first: a store we cannot open is reported before any new wrap is made.
    await theDataKey();
    faultPoint("rekey-unwrapped");
    const keys: WrappedKey[] = [];
    const done: RekeyStep[] = [];
    for (const s of steps) {
      const old = records.find((r) => r.provider === s.provider && r.keyRef === s.keyRef);
      if (s.action === "remove") {
        done.push({ ...s });
        continue;
      }
      if (s.action === "keep") {
        keys.push(old as WrappedKey);
        done.push({ ...s });
        continue;
      }
      const p = await getProvider(s.provider);
      const toKeyRef = s.action === "refresh" ? await currentKeyRef({ provider: s.provider, keyRef: s.keyRef }) : s.keyRef;
      const source = s.action === "refresh" ? old : records.find((r) => r.provider === s.provider);
      const { rec, method } = await newWrap(p, source, toKeyRef, context, theDataKey);
      await verifyWrap(rec, await theDataKey());
      keys.push(rec);
      done.push({ ...s, method, newKeyRef: rec.keyRef });
    }
    faultPoint("wrap-verified");
    return { keys, steps: done };
  } finally {
    wipe(dataKey);
  }
}

async function newWrap(
  p: GuardedProvider,
  source: WrappedKey | undefined,
  toKeyRef: string,
  context: WrappedKey["context"],
  dataKey: () => Promise<Uint8Array>,
): Promise<{ rec: WrappedKey; method: "server-rewrap" | "unwrap-wrap" }> {
  // A record wrapped under an older context cannot be re-wrapped into this one on the server.
  if (p.canRewrap && source && sameContext(source.context, context)) {
    try {
      return { rec: await p.rewrapKey(source, toKeyRef), method: "server-rewrap" };
    } catch (e) {
      // The provider says this pair cannot be re-wrapped on the server (AWS ReEncrypt does
      // not cross regions): fall back to unwrap and wrap. Other failures stop the rekey.
      if (!isSealkitError(e, "E_CONFIG")) throw e;
    }
  }
  return { rec: await p.wrapKey(await dataKey(), { keyRef: toKeyRef, context }), method: "unwrap-wrap" };
}

function sameContext(a: WrappedKey["context"], b: WrappedKey["context"]): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

export interface RekeyResult {
  file: string;
  storeId: string;
  generation: number;
  dryRun: boolean;
  steps: RekeyStep[];
  keys: { provider: string; keyRef: string }[];
}

/**
 * `sealkit rekey` on a store file: re-wraps its data key (under the lock, verified, one
 * atomic write). Values, generation and the data key's age are unchanged.
 */
export async function rekeyStore(path: string, t: RekeyTarget & { dryRun?: boolean } = {}): Promise<RekeyResult> {
  if (t.dryRun) {
    const store = await readStoreFile(path);
    const steps = await describeMethods(store.keys, planRekey(store.keys, t));
    return result(path, store, true, steps, store.keys);
  }
  return withStoreLock(path, async () => {
    const store = await readStoreFile(path);
    const plan = planRekey(store.keys, t);
    const { keys, steps } = await rekeyRecords(store.keys, plan, store, t.currentKeyRef);
    const t0 = new Date().toISOString();
    const stored: StoredKey[] = keys.map((k) => {
      const kept = store.keys.find((o) => o === k);
      return kept ?? Object.freeze({ ...k, createdAt: t0 });
    });
    const next: StoreFile = { ...store, keys: Object.freeze(stored) };
    await writeStoreFile(path, next);
    return result(path, next, false, steps, stored);
  });
}

function result(file: string, s: StoreFile, dryRun: boolean, steps: RekeyStep[], keys: readonly WrappedKey[]): RekeyResult {
  return {
    file,
    storeId: s.storeId,
    generation: s.generation,
    dryRun,
    steps,
    keys: keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef })),
  };
}
