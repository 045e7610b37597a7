import { readFile, } from "node:fs/promises";
import { relative } from "node:path";
import { SealkitError, openValue, storedEnvelope, wipe } from "@sealkit/envelope";
import { readStoreFile } from "./file.js";
import { withDataKey } from "./ops.js";
import { walkFiles } from "./_walk.js";

/** Values shorter than this many bytes are not searched: they match by chance ("true", "8080"). */
export const DEFAULT_MIN_LEAK_LENGTH = 8;

/** Folders never scanned unless given as the root itself. */

export type LeakEncoding = "raw" | "json-escaped" | "base64" | "base64url" | "hex" | "HEX" | "url-encoded";

export interface LeakFinding {
  /** Path relative to the scanned directory. */
  file: string;
  /** Byte offset of the match in the file. */
  offset: number;
  /** The secret's name (names are not secret). Never the value. */
  name: string;
  encoding: LeakEncoding;
}

export interface ScanResult {
  dir: string;
  filesScanned: number;
  valuesChecked: number;
  /** Names not searched because their value is shorter than `minLength`. */
  skippedShort: string[];
  findings: LeakFinding[];
}

interface Needle {
  name: string;
  encoding: LeakEncoding;
  bytes: Buffer;
}

/**
 * The forms a value can take in build output. Text forms: as is, and as the body of a JS or
 * JSON string literal (each quote style, with non-ASCII kept or escaped the way esbuild and
 * JSON.stringify do), and such a literal escaped once more inside a source map's
 * `sourcesContent`. Each text form is also searched as base64 and base64url at all three
 * byte alignments (a value inside a longer base64 blob, such as an inline source map,
 * starts at any offset mod 3), keeping only the characters that do not depend on the
 * neighbouring bytes. Hex and percent-encoding are searched on the raw bytes.
 */
function needlesFor(name: string, value: Uint8Array): Needle[] {
  const raw = Buffer.from(value);
  const out: Needle[] = [{ name, encoding: "raw", bytes: raw }];
  const texts: Buffer[] = [raw];
  const text = (() => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(value);
    } catch {
      return undefined;
    }
  })();
  if (text !== undefined) {
    const literals = new Set<string>();
    for (const quote of ['"', "'", "`"] as const) {
      for (const ascii of ["none", "upper", "lower"] as const) literals.add(jsStringBody(text, quote, ascii));
    }
    literals.add(JSON.stringify(text).slice(1, -1));
    // A literal inside sourcesContent: the source text JSON-escaped once more.
    for (const l of [...literals]) literals.add(JSON.stringify(l).slice(1, -1));
    for (const l of literals) {
      const b = Buffer.from(l);
      out.push({ name, encoding: "json-escaped", bytes: b });
      texts.push(b);
    }
    out.push({ name, encoding: "url-encoded", bytes: Buffer.from(encodeURIComponent(text)) });
    out.push({ name, encoding: "url-encoded", bytes: Buffer.from(new URLSearchParams({ v: text }).toString().slice(2)) });
  }
  out.push({ name, encoding: "url-encoded", bytes: Buffer.from(percentEncode(raw)) });
  out.push({ name, encoding: "url-encoded", bytes: Buffer.from(percentEncode(raw).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())) });
  out.push({ name, encoding: "hex", bytes: Buffer.from(raw.toString("hex")) });
  out.push({ name, encoding: "HEX", bytes: Buffer.from(raw.toString("hex").toUpperCase()) });
  for (const t of texts) {
    for (const shift of [0, 1, 2]) {
      const b = Buffer.concat([Buffer.alloc(shift), t]);
      const from = Math.ceil((8 * shift) / 6);
      const to = Math.floor((8 * b.length) / 6);
      for (const encoding of ["base64", "base64url"] as const) {
        const enc = b.toString(encoding).slice(from, to);
        if (enc.length >= 4) out.push({ name, encoding, bytes: Buffer.from(enc) });
      }
      b.fill(0);
    }
  }
  // Keep the first needle of each distinct byte string (raw wins over an identical encoding).
  const seen = new Set<string>();
  return out.filter((n) => {
    const k = n.bytes.toString("latin1");
    if (seen.has(k)) {
      if (n.bytes !== raw) n.bytes.fill(0);
      return false;
    }
    seen.add(k);
    return true;
  });
}

/**
 * The body of a JS string literal holding `text`, as a bundler prints it: backslash, the
 * quote and control characters escaped; non-ASCII kept (`none`) or escaped as esbuild does
 * (`\xFC`, `\u20AC`, `\u{1F600}`) in upper or lower case hex.
 */
function jsStringBody(text: string, quote: '"' | "'" | "`", ascii: "none" | "upper" | "lower"): string {
  const hex = (n: number, w: number) => {
    const h = n.toString(16).padStart(w, "0");
    return ascii === "lower" ? h : h.toUpperCase();
  };
  const named: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v" };
  let s = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote) s += `\\${ch}`;
    else if (named[ch]) s += named[ch];
    else if (cp < 0x20) s += `\\x${hex(cp, 2)}`;
    else if (cp < 0x80 || ascii === "none") s += ch;
    else if (cp < 0x100) s += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) s += `\\u${hex(cp, 4)}`;
    else s += `\\u{${hex(cp, 1)}}`;
  }
  return s;
}

/** RFC 3986 §2.1 percent-encoding of every byte outside the unreserved set. */
function percentEncode(b: Uint8Array): string {
  let s = "";
  for (const x of b) {
    const c = String.fromCharCode(x);
    s += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${x.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return s;
}

/**
 * Searches every file under `dir` for the given plaintext values in each encoding.
 * Findings name the file, byte offset, secret name and encoding, never the value. The
 * caller owns `values` (and wipes them); the encoded forms made here are wiped on return.
 * This is the check the plugin runs at the end of a build when the builder can decrypt.
 */
export async function scanForLeaks(
  dir: string,
  values: ReadonlyMap<string, Uint8Array>,
  opts: { minLength?: number } = {},
): Promise<ScanResult> {
  const minLength = opts.minLength ?? DEFAULT_MIN_LEAK_LENGTH;
  const skippedShort: string[] = [];
  const needles: Needle[] = [];
  for (const [name, value] of values) {
    if (value.length < minLength) skippedShort.push(name);
    else needles.push(...needlesFor(name, value));
  }
  const findings: LeakFinding[] = [];
  let filesScanned = 0;
  try {
    for await (const file of walkFiles(dir, "directory")) {
      let buf: Buffer;
      try {
        buf = await readFile(file);
      } catch (e) {
        throw new SealkitError("E_IO", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code}`, { details: { file } });
      }
      filesScanned++;
      const rel = relative(dir, file) || file;
      for (const n of needles) {
        for (let at = buf.indexOf(n.bytes); at !== -1; at = buf.indexOf(n.bytes, at + 1)) {
          findings.push({ file: rel, offset: at, name: n.name, encoding: n.encoding });
        }
      }
    }
  } finally {
    for (const n of needles) n.bytes.fill(0);
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.offset - b.offset);
  return { dir, filesScanned, valuesChecked: values.size - skippedShort.length, skippedShort: skippedShort.sort(), findings };
}


/**
 * `sealkit scan`: opens every value of the store (one unwrap) and searches `dir` for
 * them. Throws E_LEAK, naming files and offsets, when anything is found.
 */
export async function scanStoreForLeaks(
  storePath: string,
  dir: string,
  opts: { minLength?: number } = {},
): Promise<ScanResult> {
  const store = await readStoreFile(storePath);
  const values = new Map<string, Uint8Array>();
  try {
    await withDataKey(store, (dataKey) => {
      for (const name of Object.keys(store.secrets)) values.set(name, openValue(dataKey, storedEnvelope(store, name)));
    });
    return await scanForLeaks(dir, values, opts);
  } finally {
    for (const v of values.values()) wipe(v);
  }
}

/** Throws E_LEAK when a scan found anything. */
export function assertNoLeaks(r: ScanResult): void {
  if (r.findings.length === 0) return;
  const where = r.findings.slice(0, 20).map((f) => `${f.file}@${f.offset} (${f.name}, ${f.encoding})`);
  throw new SealkitError(
    "E_LEAK",
    `plaintext of ${new Set(r.findings.map((f) => f.name)).size} secret(s) found ${r.findings.length} time(s): ${where.join(", ")}${r.findings.length > 20 ? ", ..." : ""}`,
    { details: { findings: r.findings } },
  );
}
