/**
 * The fast path of the scan: the answer of `scanModule` without building a JavaScript AST.
 *
 * Turning oxc's AST into JavaScript objects (a JSON string, then `JSON.parse`) and walking
 * it with scope tracking costs 0.3–0.7 ms per small file; oxc's module record alone (static
 * and dynamic imports, `import.meta` uses) comes back without it, in tens of microseconds.
 * So the text is rewritten so that the module record answers the scope questions:
 *
 * - every `secret("lit")` / `sk.secret("lit")` of an imported binding becomes `import("lit")`:
 *   the parser lists it as a dynamic import exactly when it is a call in code (not in a
 *   comment, string, template text, regular expression, JSX text or a member call);
 * - every other appearance of the binding's name becomes `import.meta`: the parser lists it
 *   as `import.meta` exactly when it is a value reference, and reports a syntax error when
 *   it is a declaration (a parameter, a `const`, a `function`, a pattern: anything that
 *   could shadow the import).
 *
 * Anything this cannot decide, it does not guess: it returns undefined and the caller runs
 * the full scan (CommonJS `require`, a syntax error, a directive prologue without a room to
 * insert, Unicode escapes or non-ASCII characters next to a name, a reference that is not a
 * direct literal call, an import clause it did not foresee).
 */
import { type ParserOptions, parseSync } from "oxc-parser";
import { RUNTIME_MODULE, RUNTIME_REEXPORT, SECRET_MODULE_PREFIX, type ScanResult, type SecretRef, appendPoint } from "./scan.js";

const SECRET_FUNCTIONS = new Set(["secret", "secretBytes"]);
const IDENT = /^[A-Za-z_$][\w$]*$/;
/** `import <clause> from "@sealkit/runtime";` as text; verified against the parser below. */
const RUNTIME_IMPORT = /\bimport\s+(?:type\s+)?([^;'"`]*?)\s*from\s*(["'])@sealkit\/runtime\2(?:[ \t]*;)?/g;
/** A string literal or a template without substitutions, with no escapes to decode. */
const LIT = String.raw`("[^"\\\r\n]*"|'[^'\\\r\n]*'|\x60[^\x60\\$\r]*\x60)`;
const CALL_TAIL = new RegExp(String.raw`\s*\(\s*${LIT}\s*\)`, "y");
/** `.secret` / `["secret"]`, then the call: group 1 is the member part, group 4 the literal. */
const NS_CALL_TAIL = new RegExp(String.raw`(\s*(?:\.\s*(?:secret|secretBytes)|\[\s*(["'\x60])(?:secret|secretBytes)\2\s*\]))\s*\(\s*${LIT}\s*\)`, "y");
const MEMBER_TAIL = /\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)/y;

interface Binding {
  local: string;
  /** `fn`: `secret` / `secretBytes` itself; `ns`: the whole module. */
  kind: "fn" | "ns";
}

interface Edit {
  start: number;
  end: number;
  text: "import" | "import.meta";
  /** For a call: the literal argument and what the call reads. */
  call?: { name: string; argStart: number; argEnd: number; callEnd: number };
  /** A namespace reference to a member other than secret/secretBytes: allowed as a value. */
  harmless?: boolean;
}

export function quickScan(code: string, filename: string, options: ParserOptions): ScanResult | undefined {
  // Escaped identifiers (`\u0073ecret`) name bindings the text search would miss.
  if (code.includes("\\u") || /\brequire\b/.test(code) || RUNTIME_REEXPORT.test(code)) return undefined;

  const decls: { start: number; end: number }[] = [];
  const bindings: Binding[] = [];
  for (const m of code.matchAll(RUNTIME_IMPORT)) {
    const clause = parseClause(m[1] as string, /^import\s+type\s/.test(m[0]));
    if (!clause) return undefined;
    decls.push({ start: m.index, end: m.index + m[0].length });
    for (const b of clause) if (!bindings.some((x) => x.local === b.local)) bindings.push(b);
  }

  const edits: Edit[] = [];
  for (const b of bindings) {
    for (let i = code.indexOf(b.local); i !== -1; i = code.indexOf(b.local, i + 1)) {
      const end = i + b.local.length;
      if (decls.some((d) => i >= d.start && i < d.end)) continue;
      const before = code.charCodeAt(i - 1);
      const after = code.charCodeAt(end);
      if (before > 127 || after > 127) return undefined;
      if (isIdentChar(before) || isIdentChar(after)) continue;
      if (b.kind === "fn") {
        CALL_TAIL.lastIndex = end;
        const c = CALL_TAIL.exec(code);
        if (c) edits.push(callEdit(code, i, end, c[1] as string, CALL_TAIL.lastIndex));
        else edits.push({ start: i, end, text: "import.meta" });
      } else {
        NS_CALL_TAIL.lastIndex = end;
        const c = NS_CALL_TAIL.exec(code);
        if (c) {
          edits.push(callEdit(code, i, end + (c[1] as string).length, c[3] as string, NS_CALL_TAIL.lastIndex));
        } else {
          MEMBER_TAIL.lastIndex = end;
          const m = MEMBER_TAIL.exec(code);
          edits.push({ start: i, end, text: "import.meta", harmless: m !== null && !SECRET_FUNCTIONS.has(m[1] as string) });
        }
      }
    }
  }
  edits.sort((a, b) => a.start - b.start);
  // `secret` as the property in `sk.secret("x")` is no reference of its own.
  for (let k = edits.length - 1; k > 0; k--) {
    const outer = edits[k - 1] as Edit;
    const inner = edits[k] as Edit;
    if (outer.call && inner.start > outer.start && inner.end <= outer.end) edits.splice(k, 1);
  }

  // The rewritten text, and where each edit and each import declaration landed in it.
  let text = "";
  let from = 0;
  const at: number[] = [];
  for (const e of edits) {
    if (e.start < from) return undefined; // overlapping names (`secret` inside `sk.secret`)
    text += code.slice(from, e.start);
    at.push(text.length);
    text += e.text;
    from = e.end;
  }
  text += code.slice(from);
  const shift = (pos: number): number => {
    let delta = 0;
    for (const e of edits) {
      if (e.end > pos) break;
      delta += e.text.length - (e.end - e.start);
    }
    return pos + delta;
  };

  const parsed = parseSync(filename, text, options);
  if (parsed.errors.length > 0) return undefined;
  const mod = parsed.module;

  // The text search must have found exactly the runtime imports the parser found.
  const runtimeImports = mod.staticImports.filter((s) => s.moduleRequest.value === RUNTIME_MODULE);
  if (runtimeImports.length !== decls.length) return undefined;
  const exact: Binding[] = [];
  for (const [k, s] of runtimeImports.entries()) {
    const d = decls[k] as { start: number; end: number };
    if (s.start !== shift(d.start) || s.end !== shift(d.end)) return undefined;
    for (const e of s.entries) {
      if (e.isType) continue;
      const kind = e.importName.kind === "NamespaceObject" ? "ns" : e.importName.kind === "Name" && SECRET_FUNCTIONS.has(e.importName.name ?? "") ? "fn" : undefined;
      if (kind && !exact.some((x) => x.local === e.localName.value)) exact.push({ local: e.localName.value, kind });
    }
  }
  if (exact.length !== bindings.length || !exact.every((x) => bindings.some((b) => b.local === x.local && b.kind === x.kind))) return undefined;

  const calls = new Map(mod.dynamicImports.map((d) => [d.start, d]));
  const metas = new Set(mod.importMetas.map((m) => m.start));
  const refs: SecretRef[] = [];
  for (const [k, e] of edits.entries()) {
    const pos = at[k] as number;
    if (e.call) {
      const d = calls.get(pos);
      if (!d) continue; // text, a comment, or a member call of something else: not a read
      if (d.moduleRequest.start !== shift(e.call.argStart) || d.moduleRequest.end !== shift(e.call.argEnd)) return undefined;
      refs.push({ name: e.call.name, start: e.start, end: e.call.callEnd, argStart: e.call.argStart });
    } else if (metas.has(pos) && !e.harmless) {
      return undefined; // a reference that is not a direct literal call: the full scan says what it is
    }
  }

  // Specifiers as written (an edit may have landed inside one: `sealkit~secret/…`).
  const unshift = (pos: number): number => {
    let delta = 0;
    for (const [k, e] of edits.entries()) {
      if ((at[k] as number) + e.text.length > pos) break;
      delta += e.text.length - (e.end - e.start);
    }
    return pos - delta;
  };
  const registered = new Set<string>();
  for (const s of mod.staticImports) {
    const literal = code.slice(unshift(s.moduleRequest.start), unshift(s.moduleRequest.end));
    const value = literal.slice(1, -1);
    if (value.startsWith(SECRET_MODULE_PREFIX) && !value.includes("\\")) registered.add(value);
  }
  const appendAt = appendPoint(
    code,
    decls.map((d) => d.end),
  );
  if (refs.length > 0 && appendAt === undefined) return undefined;
  return { refs, problems: [], commonjs: false, registered, insertAt: 0, appendAt };
}

function callEdit(code: string, start: number, end: number, literal: string, callEnd: number): Edit {
  const argEnd = code.lastIndexOf(literal.charAt(0), callEnd - 1) + 1;
  const argStart = argEnd - literal.length;
  return { start, end, text: "import", call: { name: literal.slice(1, -1), argStart, argEnd, callEnd } };
}

/** The bindings of an import clause (`{ secret, secretBytes as b }`, `* as sk`, `rt, { … }`); undefined if unforeseen. */
function parseClause(clause: string, typeOnly: boolean): Binding[] | undefined {
  if (typeOnly) return [];
  let rest = clause.trim();
  const out: Binding[] = [];
  const def = /^([A-Za-z_$][\w$]*)\s*(?:,\s*|$)/.exec(rest);
  if (def) {
    if (def[1] === "type" && rest !== "type") return undefined;
    rest = rest.slice(def[0].length);
  }
  if (rest === "") return out;
  const ns = /^\*\s*as\s+([A-Za-z_$][\w$]*)$/.exec(rest);
  if (ns) return [{ local: ns[1] as string, kind: "ns" }];
  const named = /^\{([^{}]*)\}$/.exec(rest);
  if (!named) return undefined;
  for (const part of (named[1] as string).split(",")) {
    const p = part.trim();
    if (p === "") continue;
    const m = /^(type\s+)?([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?$/.exec(p);
    if (!m) return undefined;
    if (m[1] || !SECRET_FUNCTIONS.has(m[2] as string)) continue;
    const local = (m[3] ?? m[2]) as string;
    if (!IDENT.test(local)) return undefined;
    out.push({ local, kind: "fn" });
  }
  return out;
}

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95;
}
