import { randomBytes } from "node:crypto";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import remapping from "@jridgewell/remapping";
import {
  KEY_RECORD_PATTERN,
  type KeyRecord,
  SealkitError,
  type WrappedKey,
  decodeKeyRecord,
  encodeKeyRecord,
} from "@sealkit/envelope";
import MagicString from "magic-string";
import { faultPoint } from "./faults.js";
import { type RekeyStep, type RekeyTarget, describeMethods, planRekey, rekeyRecords } from "./rekey.js";
import { walkFiles } from "./_walk.js";

/** The manifest the plugin writes next to the output (docs/architecture.md, "Build manifest"). */
export const MANIFEST_FILE = "sealkit-manifest.json";

const MARKER = Buffer.from("sealkit-key:");

/** One data-key record found in a built file. */
export interface FoundRecord {
  /** Path relative to the bundle directory. */
  file: string;
  /** UTF-16 index of the record text in the file (the column space of source maps). */
  index: number;
  text: string;
  record: KeyRecord;
}

export interface BundleScan {
  dir: string;
  records: FoundRecord[];
  /** Marker-like text that did not decode (a comment mentioning the format, say). */
  skipped: { file: string; index: number; reason: string }[];
}

/** Finds every `sealkit-key:1:…` data-key record in the files under `dir` (not in `.map` files). */
export async function findKeyRecords(dir: string): Promise<BundleScan> {
  const root = resolve(dir);
  const records: FoundRecord[] = [];
  const skipped: BundleScan["skipped"] = [];
  for await (const file of walkFiles(root, "bundle directory")) {
    if (file.endsWith(".map")) continue;
    const buf = await readFile(file);
    if (!buf.includes(MARKER)) continue;
    const code = buf.toString("utf8");
    const rel = relative(root, file);
    for (const m of code.matchAll(new RegExp(KEY_RECORD_PATTERN.source, "g"))) {
      try {
        records.push({ file: rel, index: m.index as number, text: m[0], record: decodeKeyRecord(m[0]) });
      } catch (e) {
        skipped.push({ file: rel, index: m.index as number, reason: (e as Error).message });
      }
    }
  }
  return { dir: root, records, skipped };
}

export interface BundleRekeyResult {
  dir: string;
  dryRun: boolean;
  /** One entry per distinct record (a record shared by several files is re-keyed once). */
  records: { storeId: string; generation: number; files: string[]; steps: RekeyStep[]; keys: { provider: string; keyRef: string }[] }[];
  files: { file: string; records: number; mapUpdated: boolean; pinsUpdated: boolean }[];
  manifestUpdated: boolean;
  skipped: BundleScan["skipped"];
}

/**
 * `sealkit rekey --bundle dir`: re-wraps, in place, the data-key records the plugin
 * embedded in built files, so a deployed artifact picks up a master-key rotation (or a
 * moved key) without a rebuild. The data key, the envelopes and the generation are
 * unchanged; only the record text (and the build's key pins) change.
 *
 * Each file is rewritten atomically. When a record's length changes, the file's source map
 * (external `.map` or inline) is composed with the edit (magic-string + remapping), so
 * stack traces still map; when it does not, every column is unchanged by construction and
 * the map is left alone. The manifest's keys are updated last.
 */
export async function rekeyBundle(dir: string, t: RekeyTarget & { dryRun?: boolean } = {}): Promise<BundleRekeyResult> {
  const scan = await findKeyRecords(dir);
  if (scan.records.length === 0) {
    throw new SealkitError("E_NOT_FOUND", `no Sealkit data-key records (sealkit-key:…) in ${scan.dir}: is this the output of a build with @sealkit/plugin?`, {
      details: { file: scan.dir },
    });
  }
  const distinct = new Map<string, { record: KeyRecord; files: Set<string> }>();
  for (const r of scan.records) {
    const d = distinct.get(r.text) ?? { record: r.record, files: new Set<string>() };
    d.files.add(r.file);
    distinct.set(r.text, d);
  }
  const result: BundleRekeyResult = { dir: scan.dir, dryRun: Boolean(t.dryRun), records: [], files: [], manifestUpdated: false, skipped: scan.skipped };
  const replacement = new Map<string, { text: string; oldPins: string[]; newPins: string[]; record: KeyRecord }>();
  for (const [text, d] of distinct) {
    const plan = planRekey(d.record.keys, t);
    let steps: RekeyStep[];
    let keys: readonly WrappedKey[];
    if (t.dryRun) {
      steps = await describeMethods(d.record.keys, plan);
      keys = d.record.keys;
    } else {
      const r = await rekeyRecords(d.record.keys, plan, d.record, t.currentKeyRef);
      steps = r.steps;
      keys = r.keys;
      const record: KeyRecord = { ...d.record, keys };
      replacement.set(text, { text: encodeKeyRecord(record), oldPins: pinsOf(d.record.keys), newPins: pinsOf(keys), record });
    }
    result.records.push({
      storeId: d.record.storeId,
      generation: d.record.generation,
      files: [...d.files].sort(),
      steps,
      keys: keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef })),
    });
  }
  if (t.dryRun) return result;

  const byFile = new Map<string, FoundRecord[]>();
  for (const r of scan.records) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  for (const [file, found] of byFile) {
    const r = await rewriteFile(join(scan.dir, file), found, replacement);
    result.files.push({ file, records: found.length, ...r });
    faultPoint("bundle-file-written");
  }
  result.manifestUpdated = await updateManifest(scan.dir, [...replacement.values()].map((x) => x.record));
  return result;
}

const pinsOf = (keys: readonly WrappedKey[]) => keys.map((k) => `${k.provider}:${k.keyRef}`);

// `pins: ["p:ref", ...]` as the plugin emits it, minified or not (minifiers may turn the
// strings into template literals), key quoted or not.
const PINS_ARRAY = /(["']?)pins\1\s*:\s*\[((?:\s*(?:"[^"\\]*"|'[^'\\]*'|`[^`\\$]*`)\s*,?)*)\s*\]/g;
const STRING_LITERAL = /"([^"\\]*)"|'([^'\\]*)'|`([^`\\$]*)`/g;

async function rewriteFile(
  path: string,
  found: FoundRecord[],
  replacement: Map<string, { text: string; oldPins: string[]; newPins: string[] }>,
): Promise<{ mapUpdated: boolean; pinsUpdated: boolean }> {
  const code = await readFile(path, "utf8");
  const ms = new MagicString(code);
  let sameLength = true;
  for (const f of found) {
    const rep = replacement.get(f.text);
    if (!rep) continue;
    if (code.slice(f.index, f.index + f.text.length) !== f.text) {
      throw new SealkitError("E_IO", `${path} changed while it was being re-keyed; run again`, { details: { file: path } });
    }
    ms.overwrite(f.index, f.index + f.text.length, rep.text);
    if (rep.text.length !== f.text.length) sameLength = false;
  }
  // The build pinned the master keys it saw; when the set changes, the pins must follow,
  // or the runtime would refuse the new keys. Only arrays that list exactly the old pins
  // of a re-keyed record are touched.
  let pinsUpdated = false;
  const changes = [...replacement.values()].filter((r) => r.oldPins.join("\n") !== r.newPins.join("\n"));
  if (changes.length > 0) {
    for (const m of code.matchAll(PINS_ARRAY)) {
      // Pins are "<provider>:<keyRef>": no quotes or escapes in them, so the literal text is the value.
      const entries = [...(m[2] as string).matchAll(STRING_LITERAL)].map((s) => (s[1] ?? s[2] ?? s[3]) as string);
      const hit = changes.find((c) => sameSet(c.oldPins, entries));
      if (!hit) continue;
      const at = (m.index as number) + m[0].indexOf("[");
      const end = (m.index as number) + m[0].length;
      const text = JSON.stringify(hit.newPins);
      ms.overwrite(at, end, text);
      if (text.length !== end - at) sameLength = false;
      pinsUpdated = true;
    }
  }
  let mapUpdated = false;
  let out = ms.toString();
  if (!sameLength) {
    const map = await findSourceMap(path, code);
    if (map) {
      const edit = ms.generateMap({ hires: true, source: basename(path), includeContent: false });
      const composed = remapping([edit.toString(), map.json], () => null);
      composed.file = map.file ?? basename(path);
      const json = composed.toString();
      if (map.kind === "file") await writeAtomic(map.path, json);
      else out = out.replace(map.comment, `${map.comment.slice(0, map.comment.indexOf("data:"))}data:application/json;base64,${Buffer.from(json).toString("base64")}`);
      mapUpdated = true;
    }
  }
  await writeAtomic(path, out);
  return { mapUpdated, pinsUpdated };
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

type FoundMap = { kind: "file"; path: string; json: string; file?: string } | { kind: "inline"; comment: string; json: string; file?: string };

/** The file's source map: the `sourceMappingURL` comment (a file or a data: URL), else `<file>.map`. */
async function findSourceMap(path: string, code: string): Promise<FoundMap | undefined> {
  const comments = [...code.matchAll(/[/][/*][#@]\s*sourceMappingURL=([^\s*]+)/g)];
  const last = comments.at(-1);
  const url = last?.[1];
  const fileOf = (json: string) => (JSON.parse(json) as { file?: string }).file;
  if (url?.startsWith("data:")) {
    const m = /^data:application\/json(?:;charset=[^;,]+)?;base64,([A-Za-z0-9+/=]+)$/.exec(url);
    if (!m) return undefined;
    const json = Buffer.from(m[1] as string, "base64").toString("utf8");
    return { kind: "inline", comment: last?.[0] as string, json, file: fileOf(json) };
  }
  const candidate = url ? resolve(dirname(path), decodeURIComponent(url)) : `${path}.map`;
  try {
    const json = await readFile(candidate, "utf8");
    return { kind: "file", path: candidate, json, file: fileOf(json) };
  } catch {
    return undefined;
  }
}

/** Updates the manifest's keys for every re-keyed store generation. */
async function updateManifest(dir: string, records: KeyRecord[]): Promise<boolean> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return false;
  }
  const manifest = JSON.parse(text) as {
    outputs?: Record<string, { stores?: { storeId: string; generation: number; keys: unknown }[] }>;
  };
  let changed = false;
  for (const out of Object.values(manifest.outputs ?? {})) {
    for (const s of out.stores ?? []) {
      const r = records.find((x) => x.storeId === s.storeId && x.generation === s.generation);
      if (!r) continue;
      s.keys = r.keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef, context: k.context }));
      changed = true;
    }
  }
  if (changed) await writeAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return changed;
}

/** Temp file in the same directory, fsync, rename, keeping the file's mode. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const mode = await stat(path).then(
    (s) => s.mode & 0o777,
    () => 0o644,
  );
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new SealkitError("E_IO", `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, details: { file: path } });
  }
}


export interface BundleStatus {
  dir: string;
  records: { file: string; storeId: string; generation: number; keys: { provider: string; keyRef: string }[] }[];
  manifest?: { generatedAt?: string };
}

/** What `sealkit status --bundle` reports: the records per file, and the manifest's build time. */
export async function bundleStatus(dir: string): Promise<BundleStatus> {
  const scan = await findKeyRecords(dir);
  const seen = new Set<string>();
  const records: BundleStatus["records"] = [];
  for (const r of scan.records) {
    const k = `${r.file}\n${r.text}`;
    if (seen.has(k)) continue;
    seen.add(k);
    records.push({ file: r.file, storeId: r.record.storeId, generation: r.record.generation, keys: r.record.keys.map((x) => ({ provider: x.provider, keyRef: x.keyRef })) });
  }
  const out: BundleStatus = { dir: scan.dir, records };
  try {
    const m = JSON.parse(await readFile(join(scan.dir, MANIFEST_FILE), "utf8")) as { generatedAt?: string };
    out.manifest = { ...(m.generatedAt ? { generatedAt: m.generatedAt } : {}) };
  } catch {
    // no manifest: the records alone are reported
  }
  return out;
}
