/**
 * The virtual modules a bundle gets. One key module per store holds the data-key record
 * and calls `register()`; one module per referenced secret hands its envelope to the key
 * module. Bundlers include each module once however many files import it, so a secret
 * used in ten files is in the bundle once, and the data-key record is there once.
 */
import { ENVELOPE_QUEUE, type StoreFile, encodeEnvelope, encodeKeyRecord, keyRecordOf, storedEnvelope } from "@sealkit/envelope";
import { RUNTIME_MODULE, SECRET_MODULE_PREFIX } from "./scan.js";

export const KEY_MODULE_PREFIX = "sealkit~key/";
/** Resolved ids start with \0 so other plugins leave them alone (the Rollup convention). */
export const RESOLVED_PREFIX = "\0";
const VIRTUAL_ID = /sealkit~(secret|key)\/([A-Za-z0-9_-]{16,64})(?:\/([A-Za-z_][A-Za-z0-9_.-]{0,127}))?$/;

export function secretModuleId(storeId: string, name: string): string {
  return `${SECRET_MODULE_PREFIX}${storeId}/${name}`;
}

export function keyModuleId(storeId: string): string {
  return `${KEY_MODULE_PREFIX}${storeId}`;
}

export interface VirtualId {
  kind: "secret" | "key";
  storeId: string;
  name?: string;
}

/** Parses a (possibly resolved or path-encoded) virtual module id. */
export function parseVirtualId(id: string): VirtualId | undefined {
  const m = VIRTUAL_ID.exec(id.startsWith(RESOLVED_PREFIX) ? id.slice(1) : id);
  if (!m) return undefined;
  if (m[1] === "secret") return m[3] ? { kind: "secret", storeId: m[2] as string, name: m[3] } : undefined;
  return m[3] ? undefined : { kind: "key", storeId: m[2] as string };
}

/** The package that registers a provider when imported. */
export function providerModule(provider: string): string {
  return provider === "local" ? "@sealkit/envelope/local" : `@sealkit/${provider}`;
}

/** The runtime import, the provider imports and the `register()` call of a store's record. */
function registration(store: StoreFile, runtime: string, entryFor: (provider: string) => string, envelopes: string) {
  const record = keyRecordOf(store);
  const pins = record.keys.map((k) => `${k.provider}:${k.keyRef}`);
  const providers = [...new Set(record.keys.map((k) => k.provider))];
  return {
    imports: [`import { register } from ${JSON.stringify(runtime)};`, ...providers.map((p) => `import ${JSON.stringify(entryFor(p))};`)],
    call: `register(${JSON.stringify(encodeKeyRecord(record))}, ${envelopes}, { pins: ${JSON.stringify(pins)} });`,
  };
}

export function keyModuleSource(store: StoreFile, entryFor: (provider: string) => string = providerModule): string {
  const r = registration(store, RUNTIME_MODULE, entryFor, "envelopes");
  // The record is a literal inside one function, so minifiers keep it as one string.
  return [...r.imports, `export function r(envelopes) { ${r.call} }`, ""].join("\n");
}

export function secretModuleSource(store: StoreFile, name: string): string {
  const envelope = encodeEnvelope(storedEnvelope(store, name));
  return [
    `import { r } from ${JSON.stringify(keyModuleId(store.storeId))};`,
    `r({ ${JSON.stringify(name)}: ${JSON.stringify(envelope)} });`,
    "",
  ].join("\n");
}

/** The esbuild stand-in for `@sealkit/runtime` in one importer: its envelopes, then the runtime. */
export function runtimeProxySource(storeId: string, names: readonly string[]): string {
  return [...names.map((n) => `import ${JSON.stringify(secretModuleId(storeId, n))};`), `export * from ${JSON.stringify(RUNTIME_MODULE)};`, ""].join(
    "\n",
  );
}

/**
 * The runtime under a second name: the Vite design redirects "@sealkit/runtime" itself to
 * its stand-in, which must still reach the real module (and, in SSR builds, leave it as
 * external as "@sealkit/runtime" would be).
 */
export const RUNTIME_SELF = "@sealkit/runtime/self";

/**
 * The Vite stand-in for `@sealkit/runtime`: the providers, the store's data-key record, the
 * runtime. Without a readable store just the runtime (a file that reads a secret then fails
 * the build, at buildEnd, with the store's problem).
 */
export function standInSource(store: StoreFile | undefined, entryFor: (provider: string) => string = providerModule): string {
  const r = store ? registration(store, RUNTIME_SELF, entryFor, "{}") : undefined;
  return [
    '// Written by @sealkit/plugin for Vite builds: it stands in for "@sealkit/runtime". Do not edit.',
    ...(r ? [...r.imports, r.call] : []),
    `export * from ${JSON.stringify(RUNTIME_SELF)};`,
    "",
  ].join("\n");
}

/** The encoded envelopes of `names`. */
export function envelopesOf(store: StoreFile, names: Iterable<string>): Record<string, string> {
  const envelopes: Record<string, string> = {};
  for (const n of names) envelopes[n] = encodeEnvelope(storedEnvelope(store, n));
  return envelopes;
}

/** The statement that starts a chunk whose modules read these secrets (Vite): their envelopes, queued. */
export function queuedEnvelopesSource(envelopes: Readonly<Record<string, string>>): string {
  const q = `globalThis[Symbol.for(${JSON.stringify(ENVELOPE_QUEUE)})]`;
  return `(${q} = ${q} || []).push(${JSON.stringify(envelopes)});`;
}
