/**
 * Leak canaries: a distinctive secret value, the forms it could leak in (raw, base64,
 * base64url, hex, URL-encoded; each also from the value's middle, since base64 of a
 * substring shifts with its alignment), and scanners for strings, objects and directories.
 * No test-framework imports, so scripts and child processes can use it too.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** A canary value: distinctive, with characters URL-encoding changes, unique per call. */
export function makeCanary(tag = "canary"): string {
  const rnd = Math.random().toString(36).slice(2, 10);
  return `${tag}-Zq8Vx3!${rnd}/p+w=d?&`;
}

export interface CanaryForm {
  form: "raw" | "base64" | "base64url" | "hex" | "hex-upper" | "url" | "url-form";
  text: string;
}

/**
 * Every form of `value` we look for. Base64 and base64url of the whole value, and of the
 * value at the three byte alignments (the middle chunk of base64 is stable when the value
 * sits inside a larger buffer), trimmed of the characters that depend on neighbours.
 */
export function canaryForms(value: string): CanaryForm[] {
  const b = Buffer.from(value, "utf8");
  const out: CanaryForm[] = [
    { form: "raw", text: value },
    { form: "hex", text: b.toString("hex") },
    { form: "hex-upper", text: b.toString("hex").toUpperCase() },
    { form: "url", text: encodeURIComponent(value) },
    { form: "url-form", text: new URLSearchParams({ v: value }).toString().slice(2) },
    { form: "base64", text: b.toString("base64") },
    { form: "base64url", text: b.toString("base64url") },
  ];
  for (let shift = 0; shift < 3; shift++) {
    // The value preceded by `shift` unknown bytes: skip the chars those bytes touch, and the
    // last (partial) group.
    const enc = Buffer.concat([Buffer.alloc(shift), b]).toString("base64");
    const start = Math.ceil((shift * 4) / 3) + (shift ? 1 : 0);
    const full = Math.floor((shift + b.length) / 3) * 4;
    const mid = enc.slice(start, full);
    if (mid.length >= 12) {
      out.push({ form: "base64", text: mid });
      out.push({ form: "base64url", text: mid.replace(/\+/g, "-").replace(/\//g, "_") });
    }
  }
  // Deduplicate (base64 and base64url coincide when neither + nor / occurs).
  const seen = new Set<string>();
  return out.filter((f) => {
    const k = `${f.form} ${f.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export interface Leak {
  where: string;
  form: CanaryForm["form"];
}

/** The forms of `value` that occur in `text` (empty when clean). */
export function leaksIn(text: string, value: string, where = "text"): Leak[] {
  return canaryForms(value)
    .filter((f) => text.includes(f.text))
    .map((f) => ({ where, form: f.form }));
}

/** Leaks in any JSON-serialisable thing (an event, an error and its details and cause). */
export function leaksInValue(thing: unknown, value: string, where = "value"): Leak[] {
  return leaksIn(describe(thing), value, where);
}

/** Every string reachable from `thing`: own and non-enumerable props (message, stack, cause). */
function describe(thing: unknown, seen = new Set<unknown>()): string {
  if (thing === null || thing === undefined) return String(thing);
  if (typeof thing === "string") return thing;
  if (typeof thing !== "object" && typeof thing !== "function") return String(thing);
  if (seen.has(thing)) return "";
  seen.add(thing);
  if (thing instanceof Uint8Array) return `${Buffer.from(thing).toString("latin1")} ${Buffer.from(thing).toString("utf8")}`;
  const parts: string[] = [];
  for (const k of Object.getOwnPropertyNames(thing)) {
    let v: unknown;
    try {
      v = (thing as Record<string, unknown>)[k];
    } catch {
      continue;
    }
    parts.push(k, describe(v, seen));
  }
  return parts.join(" ");
}

/**
 * Scans every file under `dir` (recursively, binary files included as latin1 and UTF-8)
 * for the canary, skipping files whose path relative to `dir` is in `allowed` (where the
 * value legitimately is, e.g. a file the user wrote it to).
 */
export function leaksInDir(dir: string, value: string, allowed: readonly string[] = []): Leak[] {
  const out: Leak[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const rel = relative(dir, p);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (name === "node_modules") continue;
        walk(p);
      } else if (st.isFile() && !allowed.includes(rel)) {
        const buf = readFileSync(p);
        out.push(...leaksIn(`${buf.toString("utf8")}\n${buf.toString("latin1")}`, value, rel));
      }
    }
  };
  walk(dir);
  return out;
}

/** Counts the files `leaksInDir` looks at, so a test can show its scan was not empty. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => !f.split(/[\\/]/).includes("node_modules") && statSync(join(dir, f)).isFile());
}
