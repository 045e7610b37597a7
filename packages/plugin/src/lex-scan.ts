/**
 * The fastest path of the scan: a tokenizer in plain JavaScript, no parser at all.
 *
 * Even oxc's module record costs ~0.1 ms per file in a real build (the native parse still
 * serializes the whole AST), which is most of the plugin's cost in Vite. Ordinary function
 * code needs less: once comments, strings, templates and regular expressions are told apart
 * from code, a file whose every appearance of the imported name is a direct `secret("lit")`
 * call (or a property name, `obj.secret`) has no declaration that could shadow the import,
 * so its answer is certain without scopes.
 *
 * It answers only when it is sure, and otherwise returns undefined for the next path
 * (`quickScan`, then the full scan): a `/` whose meaning depends on grammar (after `)` of
 * an `if (…)`, after `}`, `++`, `await`…), anything that may be JSX (`</` or `/>` anywhere),
 * non-ASCII code, `\u` escapes, `require`, a re-export or `import()` of the runtime,
 * unbalanced brackets, an unterminated literal, any other appearance of the name, an import
 * clause it does not know.
 * It checks no grammar beyond that: a file with a syntax error elsewhere is reported by the
 * bundler, which parses it next.
 */
import { RUNTIME_MODULE, RUNTIME_REEXPORT, SECRET_MODULE_PREFIX, type ScanResult, type SecretRef, appendPoint } from "./scan.js";

const SECRET_FUNCTIONS = new Set(["secret", "secretBytes"]);
/** After these, `/` starts a regular expression. */
const BEFORE_EXPRESSION = new Set(["return", "typeof", "instanceof", "in", "new", "delete", "void", "throw", "case", "do", "else", "extends", "default", "break", "continue", "debugger"]);
/** After these, `/` could be either (contextual keywords, or identifiers). */
const AMBIGUOUS = new Set(["await", "yield", "of", "let", "async", "get", "set", "static", "as", "satisfies"]);
/** `(` after these closes into a statement head: a `/` after its `)` is a regular expression. */
const HEAD = new Set(["if", "while", "for", "with"]);

const T = {
  Ident: 0,
  Str: 1,
  /** A template without substitutions. */
  Tpl: 2,
  Punct: 3,
  Other: 4,
} as const;
/** Flags beside the type: the literal has escapes (its value is not its text); the token is at the top level. */
const ESCAPES = 8;
const TOP = 16;

/**
 * The tokens of the file being scanned, in typed arrays reused from file to file (the scan
 * is synchronous): a build scans hundreds of files, and token objects were most of its garbage.
 */
let kind = new Uint8Array(2048);
let starts = new Int32Array(2048);
let ends = new Int32Array(2048);
let count = 0;
let src = "";

const typeOf = (k: number): number => (k >= 0 && k < count ? (kind[k] as number) & 7 : -1);
const isIdent = (k: number, name?: string): boolean =>
  typeOf(k) === T.Ident && (name === undefined || ((ends[k] as number) - (starts[k] as number) === name.length && src.startsWith(name, starts[k])));
const isPunct = (k: number, p: string): boolean =>
  typeOf(k) === T.Punct && (ends[k] as number) - (starts[k] as number) === p.length && src.startsWith(p, starts[k]);
const text = (k: number): string => src.slice(starts[k], ends[k]);
/** The value of a string literal or plain template; undefined when it has escapes. */
const literal = (k: number): string | undefined =>
  (typeOf(k) === T.Str || typeOf(k) === T.Tpl) && ((kind[k] as number) & ESCAPES) === 0 ? src.slice((starts[k] as number) + 1, (ends[k] as number) - 1) : undefined;

type Slash = "regex" | "div" | "unsure";

export function lexScan(code: string, filename: string): ScanResult | undefined {
  if (!/\.[cm]?[jt]sx?$/.test(filename)) return undefined;
  if (code.includes("\\u") || code.includes("</") || code.includes("/>") || /\brequire\b/.test(code) || RUNTIME_REEXPORT.test(code)) return undefined;
  try {
    if (!tokenize(code)) return undefined;
    return analyzeTokens(code);
  } finally {
    src = "";
  }
}

function analyzeTokens(code: string): ScanResult | undefined {
  // Static imports at the top level: the runtime's bindings, and secret modules already added.
  const bindings = new Map<string, "fn" | "ns">();
  const declEnds: number[] = [];
  const skipped: [number, number][] = []; // token ranges of runtime import declarations
  const registered = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (!isIdent(i, "import") || ((kind[i] as number) & TOP) === 0) continue;
    if (isPunct(i - 1, ".") || isPunct(i - 1, "?.")) continue;
    if (i + 1 >= count || isPunct(i + 1, "(") || isPunct(i + 1, ".")) continue; // import() / import.meta
    const decl = importDeclaration(i);
    if (!decl) return undefined;
    if (decl.source.startsWith(SECRET_MODULE_PREFIX)) registered.add(decl.source);
    if (decl.source !== RUNTIME_MODULE) continue;
    skipped.push([i, decl.next]);
    declEnds.push(decl.end);
    if (!decl.typeOnly) for (const b of decl.bindings) bindings.set(b.local, b.kind);
    i = decl.next - 1;
  }
  if (bindings.size === 0) {
    return { refs: [], problems: [], commonjs: false, registered, insertAt: 0, appendAt: appendPoint(code, declEnds) };
  }

  const refs: SecretRef[] = [];
  const single = bindings.size === 1 ? [...bindings][0] : undefined;
  let range = 0;
  for (let i = 0; i < count; i++) {
    const r = skipped[range];
    if (r && i >= r[0]) {
      if (i < r[1]) continue;
      range++;
    }
    if (typeOf(i) !== T.Ident) continue;
    const bound = single ? (isIdent(i, single[0]) ? single[1] : undefined) : bindings.get(text(i));
    if (!bound) continue;
    // a property name (`obj.secret`) or private name is no reference to the binding
    if (isProperty(i - 1)) continue;
    if (isIdent(i - 1, "new")) return undefined;
    let k = i + 1;
    if (bound === "ns") {
      const member = isIdent(k + 1) ? text(k + 1) : undefined;
      if ((isPunct(k, ".") || isPunct(k, "?.")) && member !== undefined && !SECRET_FUNCTIONS.has(member)) continue;
      if (isPunct(k, ".") && member !== undefined) k += 2;
      else if (isPunct(k, "[") && SECRET_FUNCTIONS.has(literal(k + 1) ?? "") && typeOf(k + 1) === T.Str && isPunct(k + 2, "]")) k += 3;
      else return undefined;
    }
    const name = literal(k + 1);
    if (!isPunct(k, "(") || name === undefined || !isPunct(k + 2, ")")) return undefined;
    refs.push({ name, start: starts[i] as number, end: ends[k + 2] as number, argStart: starts[k + 1] as number });
  }

  const appendAt = appendPoint(code, declEnds);
  if (refs.length > 0 && appendAt === undefined) return undefined;
  return { refs, problems: [], commonjs: false, registered, insertAt: 0, appendAt };
}

interface ImportDecl {
  source: string;
  typeOnly: boolean;
  bindings: { local: string; kind: "fn" | "ns" }[];
  /** Offset just after the declaration (after its `;` if it has one). */
  end: number;
  /** Index of the first token after it. */
  next: number;
}

/** `import [type] <clause> from "m"[;]` or `import "m"[;]` from token `i`; undefined if unforeseen. */
function importDeclaration(i: number): ImportDecl | undefined {
  let k = i + 1;
  const ident = (n: number) => (isIdent(n) ? text(n) : undefined);
  let typeOnly = false;
  const bindings: ImportDecl["bindings"] = [];
  if (typeOf(k) !== T.Str) {
    if (ident(k) === "type" && (isIdent(k + 1) || isPunct(k + 1, "{") || isPunct(k + 1, "*")) && ident(k + 1) !== "from") {
      typeOnly = true;
      k++;
    }
    if (ident(k) !== undefined && ident(k) !== "from") {
      k++; // default import: not a secret binding
      if (isPunct(k, ",")) k++;
      else if (ident(k) !== "from") return undefined;
    }
    if (isPunct(k, "*")) {
      if (ident(k + 1) !== "as" || ident(k + 2) === undefined) return undefined;
      bindings.push({ local: ident(k + 2) as string, kind: "ns" });
      k += 3;
    } else if (isPunct(k, "{")) {
      k++;
      while (!isPunct(k, "}")) {
        let typeSpec = false;
        if (ident(k) === "type" && isIdent(k + 1) && !(ident(k + 1) === "as" && !isIdent(k + 2))) {
          typeSpec = true;
          k++;
        }
        const imported = ident(k);
        if (imported === undefined) return undefined; // string names and the like
        let local = imported;
        k++;
        if (ident(k) === "as") {
          const l = ident(k + 1);
          if (l === undefined) return undefined;
          local = l;
          k += 2;
        }
        if (!typeSpec && SECRET_FUNCTIONS.has(imported)) bindings.push({ local, kind: "fn" });
        if (isPunct(k, ",")) k++;
        else if (!isPunct(k, "}")) return undefined;
      }
      k++;
    }
    if (ident(k) !== "from") return undefined;
    k++;
  }
  const source = typeOf(k) === T.Str ? literal(k) : undefined;
  if (source === undefined) return undefined;
  let end = ends[k] as number;
  k++;
  if (isPunct(k, ";")) {
    end = ends[k] as number;
    k++;
  } else if (ident(k) === "with" || ident(k) === "assert") {
    return undefined;
  }
  return { source, typeOnly, bindings, end, next: k };
}

function push(t: number, start: number, end: number, top: boolean): void {
  if (count === kind.length) {
    const grow = <A extends Uint8Array | Int32Array>(a: A, make: (n: number) => A): A => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    kind = grow(kind, (n) => new Uint8Array(n));
    starts = grow(starts, (n) => new Int32Array(n));
    ends = grow(ends, (n) => new Int32Array(n));
  }
  kind[count] = t | (top ? TOP : 0);
  starts[count] = start;
  ends[count] = end;
  count++;
}

/**
 * Tokenizes `code` into the shared arrays; false when the text is outside what this
 * tokenizer is sure about (see the file comment).
 */
function tokenize(code: string): boolean {
  src = code;
  count = 0;
  /** Open brackets: `(` (with whether it follows if/while/for/with), `[`, `{`, and `${` of a template. */
  const stack: ("(" | "(head" | "[" | "{" | "${")[] = [];
  let slash: Slash = "regex";
  let i = code.startsWith("#!") ? code.indexOf("\n") : 0;
  if (i === -1) return true;
  const n = code.length;

  /** Scans template text from `from` (just after "`" or "}"): the index after "`" or "${". */
  const templateText = (from: number): { end: number; closed: boolean; escapes: boolean } | undefined => {
    let j = from;
    let escapes = false;
    while (j < n) {
      const c = code.charCodeAt(j);
      if (c === 92 /* \ */) {
        escapes = true;
        j += 2;
      } else if (c === 96 /* ` */) {
        return { end: j + 1, closed: true, escapes };
      } else if (c === 36 /* $ */ && code.charCodeAt(j + 1) === 123 /* { */) {
        return { end: j + 2, closed: false, escapes };
      } else {
        if (c === 13) escapes = true; // CRLF is cooked to LF: not the raw text
        j++;
      }
    }
    return undefined;
  };

  while (i < n) {
    const c = code.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12) {
      i++;
      continue;
    }
    if (c > 127) return false;
    const start = i;
    const top = stack.length === 0;
    if (c === 47 /* / */) {
      const d = code.charCodeAt(i + 1);
      if (d === 47) {
        const e = code.indexOf("\n", i);
        i = e === -1 ? n : e;
        continue;
      }
      if (d === 42) {
        const e = code.indexOf("*/", i + 2);
        if (e === -1) return false;
        i = e + 2;
        continue;
      }
      if (slash === "unsure") return false;
      if (slash === "regex") {
        let j = i + 1;
        let cls = false;
        for (;;) {
          const r = code.charCodeAt(j);
          if (Number.isNaN(r) || r === 10 || r === 13) return false;
          if (r === 92) j += 2;
          else {
            if (r === 91) cls = true;
            else if (r === 93) cls = false;
            else if (r === 47 && !cls) break;
            j++;
          }
        }
        j++;
        while (isIdentChar(code.charCodeAt(j))) j++;
        push(T.Other, start, j, top);
        i = j;
        slash = "div";
        continue;
      }
      // division (or /=)
      i += code.charCodeAt(i + 1) === 61 ? 2 : 1;
      push(T.Punct, start, i, top);
      slash = "regex";
      continue;
    }
    if (c === 34 || c === 39 /* " ' */) {
      let j = i + 1;
      let escapes = 0;
      for (;;) {
        const r = code.charCodeAt(j);
        if (Number.isNaN(r) || r === 10 || r === 13) return false;
        if (r === 92) {
          escapes = ESCAPES;
          j += 2;
        } else if (r === c) break;
        else j++;
      }
      push(T.Str | escapes, start, j + 1, top);
      i = j + 1;
      slash = "div";
      continue;
    }
    if (c === 96 /* ` */) {
      const s = templateText(i + 1);
      if (!s) return false;
      if (s.closed) push(T.Tpl | (s.escapes ? ESCAPES : 0), start, s.end, top);
      else {
        push(T.Other, start, s.end, top);
        stack.push("${");
      }
      i = s.end;
      slash = s.closed ? "div" : "regex";
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (isIdentChar(code.charCodeAt(j))) j++;
      // a property name (`obj.return`) is no keyword
      const property = isProperty(count - 1);
      push(T.Ident, start, j, top);
      i = j;
      slash = property ? "div" : keywordSlash(code, start, j);
      continue;
    }
    if ((c >= 48 && c <= 57) /* digit */ || (c === 46 && isDigit(code.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (isIdentChar(code.charCodeAt(j)) || code.charCodeAt(j) === 46) j++;
      push(T.Other, start, j, top);
      i = j;
      slash = "div";
      continue;
    }
    // punctuators
    switch (c) {
      case 40 /* ( */: {
        const head = typeOf(count - 1) === T.Ident && HEAD.has(text(count - 1)) && !isProperty(count - 2);
        stack.push(head ? "(head" : "(");
        push(T.Punct, start, ++i, top);
        slash = "regex";
        continue;
      }
      case 41 /* ) */: {
        const open = stack.pop();
        if (open !== "(" && open !== "(head") return false;
        push(T.Punct, start, ++i, stack.length === 0);
        slash = open === "(head" ? "regex" : "div";
        continue;
      }
      case 91 /* [ */:
        stack.push("[");
        push(T.Punct, start, ++i, top);
        slash = "regex";
        continue;
      case 93 /* ] */:
        if (stack.pop() !== "[") return false;
        push(T.Punct, start, ++i, stack.length === 0);
        slash = "div";
        continue;
      case 123 /* { */:
        stack.push("{");
        push(T.Punct, start, ++i, top);
        slash = "regex";
        continue;
      case 125 /* } */: {
        const open = stack.pop();
        if (open === "${") {
          const s = templateText(i + 1);
          if (!s) return false;
          push(T.Other, start, s.end, stack.length === 0);
          if (!s.closed) stack.push("${");
          i = s.end;
          slash = s.closed ? "div" : "regex";
          continue;
        }
        if (open !== "{") return false;
        push(T.Punct, start, ++i, stack.length === 0);
        slash = "unsure"; // a block or an object literal
        continue;
      }
      case 46 /* . */:
        if (code.startsWith("...", i)) {
          push(T.Punct, start, (i += 3), top);
          slash = "regex";
        } else {
          push(T.Punct, start, ++i, top);
          slash = "div"; // `a./` is never valid; a name follows
        }
        continue;
      case 63 /* ? */:
        if (code.charCodeAt(i + 1) === 46 && !isDigit(code.charCodeAt(i + 2))) {
          push(T.Punct, start, (i += 2), top);
          slash = "div";
          continue;
        }
        break;
      case 43 /* + */:
      case 45 /* - */:
        if (code.charCodeAt(i + 1) === c) {
          push(T.Punct, start, (i += 2), top);
          slash = "unsure"; // postfix or prefix
          continue;
        }
        break;
      case 35 /* # */:
        if (!isIdentStart(code.charCodeAt(i + 1))) return false; // only private names here
        push(T.Punct, start, ++i, top);
        slash = "div";
        continue;
    }
    if (c === 92 /* \ */) return false; // an escape outside a literal
    // any other punctuator character: one token per character is enough here
    const endsExpression = c === 33 && mayEndExpression(count - 1);
    push(T.Punct, start, ++i, top);
    // `x! / y` divides (TypeScript's non-null `!`), `(!/re/.test(s))` does not
    slash = endsExpression ? "unsure" : "regex";
  }
  return stack.length === 0;
}

function keywordSlash(code: string, start: number, end: number): Slash {
  const len = end - start;
  if (len < 2 || len > 10) return "div";
  const v = code.slice(start, end);
  return BEFORE_EXPRESSION.has(v) ? "regex" : AMBIGUOUS.has(v) ? "unsure" : "div";
}

function isProperty(k: number): boolean {
  return isPunct(k, ".") || isPunct(k, "?.") || isPunct(k, "#");
}

function mayEndExpression(k: number): boolean {
  const t = typeOf(k);
  if (t === -1) return false;
  if (t === T.Ident) return !BEFORE_EXPRESSION.has(text(k));
  if (t === T.Punct) return isPunct(k, ")") || isPunct(k, "]") || isPunct(k, "}");
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
