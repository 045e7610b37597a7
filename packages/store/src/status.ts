import { SealkitError, type StoreFile } from "@sealkit/envelope";

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a duration such as `90d`, `12h`, `2w`, `30m`, `45s` or a sum (`1d12h`) into
 * milliseconds. Hand-written: five units are all `--max-age` needs, and the grammar is
 * documented in docs/lifecycle.md.
 */
export function parseDuration(text: string): number {
  const t = String(text).trim();
  const re = /(\d+)([smhdw])/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(t))) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    end = re.lastIndex;
  }
  if (t.length === 0 || end !== t.length || total <= 0) {
    throw new SealkitError("E_INPUT", `invalid duration ${JSON.stringify(t)}: use a number and a unit s, m, h, d or w (e.g. 90d, 12h, 1d12h)`, {
      details: { field: "duration" },
    });
  }
  return total;
}

/** Parses `--since`: an ISO date/time, or a duration meaning "that long ago". */
export function parseSince(text: string, now = Date.now()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const d = new Date(text);
    if (!Number.isNaN(d.getTime())) return d;
  } else {
    return new Date(now - parseDuration(text));
  }
  throw new SealkitError("E_INPUT", `invalid date ${JSON.stringify(text)}: use an ISO date (2026-01-31) or a duration (90d)`, {
    details: { field: "since" },
  });
}

export interface StaleItem {
  /** `data-key` (rotate fixes it), `wrap` (rekey fixes it), `secret` (set a new value), `bundle`. */
  kind: "data-key" | "wrap" | "secret" | "bundle";
  /** What is stale: a keyRef, a secret name, a bundle file. Never a value. */
  subject: string;
  since: string;
  ageMs: number;
  fix: string;
}

export interface StoreStatus {
  file: string;
  storeId: string;
  generation: number;
  createdAt: string;
  dataKeyCreatedAt: string;
  dataKeyAgeMs: number;
  keys: { provider: string; keyRef: string; wrappedAt: string; ageMs: number }[];
  secrets: { name: string; updatedAt: string; ageMs: number }[];
  /** Names whose value has not changed since `since` (when given). */
  unchangedSince?: { since: string; names: string[] };
  stale: StaleItem[];
}

export interface StatusOptions {
  /** Data key and wraps older than this are stale (`rotate` / `rekey` fix them). */
  maxAgeMs?: number;
  /** Values older than this are stale (set a new value). */
  maxSecretAgeMs?: number;
  since?: Date;
  now?: number;
}

/** What `sealkit status` reports about a store file; pure, no key-service call. */
export function storeStatus(file: string, s: StoreFile, o: StatusOptions = {}): StoreStatus {
  const now = o.now ?? Date.now();
  const age = (iso: string) => Math.max(0, now - Date.parse(iso));
  const stale: StaleItem[] = [];
  const dataKeyAgeMs = age(s.dataKeyCreatedAt);
  if (o.maxAgeMs !== undefined && dataKeyAgeMs > o.maxAgeMs) {
    stale.push({ kind: "data-key", subject: `generation ${s.generation}`, since: s.dataKeyCreatedAt, ageMs: dataKeyAgeMs, fix: "sealkit rotate" });
  }
  const keys = s.keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef, wrappedAt: k.createdAt, ageMs: age(k.createdAt) }));
  for (const k of keys) {
    if (o.maxAgeMs !== undefined && k.ageMs > o.maxAgeMs) {
      stale.push({ kind: "wrap", subject: `${k.provider}:${k.keyRef}`, since: k.wrappedAt, ageMs: k.ageMs, fix: "sealkit rekey" });
    }
  }
  const secrets = Object.keys(s.secrets)
    .sort()
    .map((name) => {
      const updatedAt = (s.secrets[name] as { updatedAt: string }).updatedAt;
      return { name, updatedAt, ageMs: age(updatedAt) };
    });
  for (const x of secrets) {
    if (o.maxSecretAgeMs !== undefined && x.ageMs > o.maxSecretAgeMs) {
      stale.push({ kind: "secret", subject: x.name, since: x.updatedAt, ageMs: x.ageMs, fix: `sealkit set ${x.name}` });
    }
  }
  const out: StoreStatus = {
    file,
    storeId: s.storeId,
    generation: s.generation,
    createdAt: s.createdAt,
    dataKeyCreatedAt: s.dataKeyCreatedAt,
    dataKeyAgeMs,
    keys,
    secrets,
    stale,
  };
  if (o.since) {
    const t = o.since.getTime();
    out.unchangedSince = { since: o.since.toISOString(), names: secrets.filter((x) => Date.parse(x.updatedAt) < t).map((x) => x.name) };
  }
  return out;
}

/** Throws E_STALE listing what is stale (subjects only), for `--max-age` gates. */
export function assertFresh(stale: readonly StaleItem[], details: Record<string, unknown> = {}): void {
  if (stale.length === 0) return;
  throw new SealkitError(
    "E_STALE",
    `${stale.length} item(s) older than allowed: ${stale.map((x) => `${x.kind} ${x.subject} (${x.fix})`).join("; ")}`,
    { details: { ...details, stale: stale.map((x) => ({ kind: x.kind, subject: x.subject, since: x.since })) } },
  );
}

/** Human form of an age: `3d 4h`, `12m`. */
export function formatAge(ms: number): string {
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor((ms % 86_400_000) / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m`;
}
