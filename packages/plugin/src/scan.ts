/**
 * Finds the `secret("name")` / `secretBytes("name")` calls of one module whose callee is
 * the function imported from `@sealkit/runtime`. Parsing is oxc-parser; scopes come from
 * oxc-walker's ScopeTracker (two passes, so hoisted `function secret()` / `var secret`
 * declarations are seen before the calls they shadow).
 */
import { type Node, type ParseResult, type ParserOptions, parse, parseSync } from "oxc-parser";
import { ScopeTracker, type ScopeTrackerNode, isReferenceIdentifier, walk } from "oxc-walker";

export const RUNTIME_MODULE = "@sealkit/runtime";
/** Specifier prefix of the virtual modules that register one envelope each. */
export const SECRET_MODULE_PREFIX = "sealkit~secret/";
const SECRET_FUNCTIONS = new Set(["secret", "secretBytes"]);

export interface SecretRef {
  readonly name: string;
  /** Offsets of the whole call and of its argument (UTF-16, as magic-string counts). */
  readonly start: number;
  readonly end: number;
  readonly argStart: number;
}

export interface ScanProblem {
  /**
   * `reexport`: the module exports `secret`, or the runtime, to other modules. Fine in a
   * bundle's entry (the export leaves the bundle: a harness or a host calls it, and the
   * names it reads must be referenced in the bundle anyway); an error anywhere else.
   */
  readonly kind: "non-literal" | "no-argument" | "escape" | "reexport" | "syntax";
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

export interface ScanResult {
  readonly refs: readonly SecretRef[];
  readonly problems: readonly ScanProblem[];
  /** CommonJS (uses `require`, has no ESM syntax): generated imports become `require()`. */
  readonly commonjs: boolean;
  /** `sealkit~secret/...` specifiers already imported (a second transform run). */
  readonly registered: ReadonlySet<string>;
  /** Offset just after the directive prologue ("use strict", "use client"...), for inserts. */
  readonly insertAt: number;
  /**
   * ES modules: the end of the line of an `import … from "@sealkit/runtime"` declaration
   * (nothing but blanks after it). Imports added there move no original character, so the
   * change needs no source map. Undefined when there is no such line.
   */
  readonly appendAt?: number | undefined;
}

/**
 * `export {…} from "@sealkit/runtime"`, `export * [as x] from …` or `import("@sealkit/runtime")`
 * as text, in time linear in the file (a match in a comment or a string only sends the file
 * to the full scan, which decides).
 */
export const RUNTIME_REEXPORT =
  /\bexport\s*(?:type\s*)?(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*["']@sealkit\/runtime["']|\bimport\s*\(\s*["'`]@sealkit\/runtime["'`]/;

/** A cheap pre-check before parsing: the file must mention the runtime at all. */
export function mentionsRuntime(code: string): boolean {
  return code.includes(RUNTIME_MODULE);
}

export function parserOptions(filename: string): ParserOptions {
  const lang = langOf(filename);
  return { ...(lang ? { lang } : {}), sourceType: /\.c[jt]s$/.test(filename) ? "commonjs" : "unambiguous", preserveParens: false };
}

/** Scans on the calling thread. */
export function scanModule(code: string, filename: string): ScanResult {
  return scanParsed(parseSync(filename, code, parserOptions(filename)), code);
}

/** Scans with the parse on a worker thread, so a bundler's JS thread stays free meanwhile. */
export async function scanModuleAsync(code: string, filename: string): Promise<ScanResult> {
  return scanParsed(await parse(filename, code, parserOptions(filename)), code);
}

function scanParsed(parsed: ParseResult, code: string): ScanResult {
  const problems: ScanProblem[] = [];
  if (parsed.errors.length > 0) {
    const e = parsed.errors[0];
    const label = e?.labels?.[0];
    problems.push({ kind: "syntax", message: e?.message ?? "syntax error", start: label?.start ?? 0, end: label?.end ?? 0 });
    return { refs: [], problems, commonjs: false, registered: new Set(), insertAt: 0 };
  }
  const program = parsed.program;
  const registered = new Set<string>();
  let esm = false;
  let insertAt = 0;
  const runtimeImportEnds: number[] = [];
  for (const stmt of program.body) {
    if (stmt.type === "ImportDeclaration" || stmt.type.startsWith("Export")) esm = true;
    if (stmt.type === "ImportDeclaration" && stmt.source.value === RUNTIME_MODULE) runtimeImportEnds.push(stmt.end);
    if (stmt.type === "ImportDeclaration" && stmt.source.value.startsWith(SECRET_MODULE_PREFIX)) registered.add(stmt.source.value);
    if (stmt.type === "ExpressionStatement" && isRequireOf(stmt.expression, SECRET_MODULE_PREFIX, true)) {
      registered.add(((stmt.expression as CallLike).arguments[0] as { value: string }).value);
    }
  }
  for (const stmt of program.body) {
    if (stmt.type === "ExpressionStatement" && "directive" in stmt && stmt.directive) insertAt = stmt.end;
    else break;
  }
  // after a hashbang line, never before it
  if (insertAt === 0 && code.startsWith("#!")) insertAt = code.indexOf("\n") + 1 || code.length;

  const tracker = new ScopeTracker({ preserveExitedScopes: true });
  walk(program, { scopeTracker: tracker, enter() {} });
  tracker.freeze();

  const refs: SecretRef[] = [];
  const callees = new Set<Node>();
  walk(program, {
    scopeTracker: tracker,
    enter(node) {
      if (node.type !== "CallExpression") return;
      let callee = node.callee as Node;
      // `(0, sk.secret)("x")`, as TypeScript and Babel emit for CommonJS
      if (callee.type === "SequenceExpression") callee = callee.expressions[callee.expressions.length - 1] as Node;
      if (!isRuntimeFunction(callee, tracker)) return;
      callees.add(callee);
      const fn = calleeName(callee);
      const arg = node.arguments[0] as Node | undefined;
      const literal = arg ? literalValue(arg) : undefined;
      if (literal !== undefined) {
        refs.push({ name: literal, start: node.start, end: node.end, argStart: (arg as Node).start });
        return;
      }
      problems.push(
        arg
          ? {
              kind: "non-literal",
              message: `the argument of ${fn}() must be a string literal: the plugin has to know at build time which secrets this bundle needs, so it can embed exactly their envelopes. Write ${fn}("name") (or a template without \${}), and pick between names with a condition around separate calls`,
              start: arg.start,
              end: arg.end,
            }
          : { kind: "no-argument", message: `${fn}() needs the secret's name as a string literal`, start: node.start, end: node.end },
      );
    },
  });
  // A reference that is not called directly (`const get = secret`) hides names from the
  // build, and so does handing the function, or the whole runtime module, to other modules
  // (a re-export, `module.exports = require(…)`): the plugin looks for calls only in the
  // modules that import the runtime, so calls made through them would build without their
  // envelopes and fail when they run.
  const escaped = (message: string, start: number, end: number, kind: "escape" | "reexport" = "escape") => problems.push({ kind, message, start, end });
  walk(program, {
    scopeTracker: tracker,
    enter(node, parent) {
      if (node.type.startsWith("TS")) return this.skip();
      if (node.type === "ExportAllDeclaration") {
        if (node.source.value === RUNTIME_MODULE && node.exportKind !== "type") escaped(reexportAllMessage(node.exported ? "* as …" : "*"), node.start, node.end, "reexport");
        return this.skip();
      }
      if (node.type === "ExportSpecifier") {
        const from = (parent as { source?: { value: string } | null } | null)?.source?.value;
        if (node.exportKind !== "type" && (parent as { exportKind?: string } | null)?.exportKind !== "type") {
          const local = node.local.type === "Identifier" ? node.local.name : String(node.local.value);
          if (from === RUNTIME_MODULE && SECRET_FUNCTIONS.has(local)) escaped(reexportMessage(local), node.start, node.end, "reexport");
          if (from === undefined && node.local.type === "Identifier") {
            const decl = tracker.getDeclaration(local);
            const what = decl ? importedName(decl) : undefined;
            if (what === "*" || (what !== undefined && SECRET_FUNCTIONS.has(what))) escaped(reexportMessage(what === "*" ? undefined : what), node.start, node.end, "reexport");
          }
        }
        return this.skip();
      }
      // `export default secret` / `export default sk`: an export like the ones above
      if (node.type === "ExportDefaultDeclaration" && node.declaration.type === "Identifier") {
        const decl = tracker.getDeclaration(node.declaration.name);
        const what = decl ? importedName(decl) : undefined;
        if (what === "*" || (what !== undefined && SECRET_FUNCTIONS.has(what))) {
          escaped(reexportMessage(what === "*" ? undefined : what), node.declaration.start, node.declaration.end, "reexport");
          return this.skip();
        }
      }
      if (node.type === "ImportExpression" && literalValue(node.source as Node) === RUNTIME_MODULE) {
        escaped(DYNAMIC_IMPORT, node.start, node.end);
        return this.skip();
      }
      if (node.type === "CallExpression" && isRequireOf(node, RUNTIME_MODULE) && !REQUIRE_USES.has(parent?.type ?? "")) {
        escaped(NAMESPACE_ESCAPE, node.start, node.end);
        return this.skip();
      }
      if (node.type !== "Identifier" && node.type !== "MemberExpression") return;
      if (callees.has(node)) return this.skip();
      if (node.type === "Identifier") {
        if (!isReferenceIdentifier(node, parent)) return;
        // the binding itself (`const { secret: s } = require(...)`) is not a use
        const decl = tracker.getDeclaration(node.name);
        if (decl?.node === node) return;
        // the namespace may be read from (`sk.configure`), not passed around (`fn(sk)`)
        const read = parent?.type === "MemberExpression" && parent.object === node;
        if (!read && decl && importedName(decl) === "*") {
          escaped(NAMESPACE_ESCAPE, node.start, node.end);
          return;
        }
      }
      if (!isRuntimeFunction(node, tracker)) return;
      const fn = calleeName(node);
      problems.push({
        kind: "escape",
        message: `${fn} from ${RUNTIME_MODULE} is used here without being called: the plugin only sees names in direct ${fn}("name") calls, so call it directly`,
        start: node.start,
        end: node.end,
      });
      return this.skip();
    },
  });
  refs.sort((a, b) => a.start - b.start);
  problems.sort((a, b) => a.start - b.start);
  const commonjs = !esm && /\brequire\s*\(/.test(code);
  return { refs, problems, commonjs, registered, insertAt, appendAt: esm ? appendPoint(code, runtimeImportEnds) : undefined };
}

/**
 * Where generated imports can go without moving any original character: the line end after
 * the first of these declaration ends that has only blanks between it and the line break
 * (or the end of the file).
 */
const GENERATED_IMPORTS = /(?:;?import "sealkit~secret\/[^"\n]*";)+/y;

export function appendPoint(code: string, declarationEnds: readonly number[]): number | undefined {
  for (const end of declarationEnds) {
    let i = end;
    // past the imports an earlier run added here
    GENERATED_IMPORTS.lastIndex = i;
    if (GENERATED_IMPORTS.test(code)) i = GENERATED_IMPORTS.lastIndex;
    while (code.charCodeAt(i) === 32 || code.charCodeAt(i) === 9) i++;
    const c = code.charCodeAt(i);
    if (Number.isNaN(c) || c === 10 || c === 13) return i;
  }
  return undefined;
}

/** Where `require("@sealkit/runtime")` may stand: bound, read from, or loaded for its effects. */
const REQUIRE_USES = new Set(["VariableDeclarator", "MemberExpression", "ExpressionStatement"]);
const NAMESPACE_ESCAPE = `${RUNTIME_MODULE} is used here as a whole, as a value: the plugin only sees names in direct secret("name") and sk.secret("name") calls, so calls made through this value would build without their envelopes. Call secret() on the import directly, and import it from "${RUNTIME_MODULE}" in each module that calls it`;
const DYNAMIC_IMPORT = `import("${RUNTIME_MODULE}") loads the runtime where the plugin cannot follow it: it only sees names in direct secret("name") calls on a static import, so calls made through this module would build without their envelopes. Import it statically (import { secret } from "${RUNTIME_MODULE}"): the runtime is small, and loads no key service until the first read`;

function reexportAllMessage(what: string): string {
  return `export ${what} from "${RUNTIME_MODULE}" re-exports secret() and secretBytes(): the plugin only sees names in direct calls in the modules that import "${RUNTIME_MODULE}", so calls through this module would build without their envelopes. Re-export by name what other modules need (export { configure } from "${RUNTIME_MODULE}"), and import secret from "${RUNTIME_MODULE}" where it is called (a bundle's entry may re-export it, for code outside the bundle)`;
}

function reexportMessage(fn: string | undefined): string {
  const what = fn ?? `the ${RUNTIME_MODULE} module`;
  return `${what} is exported here for other modules to call: the plugin only sees names in direct ${fn ?? "secret"}("name") calls in the modules that import "${RUNTIME_MODULE}", so calls through this module would build without their envelopes. Import ${fn ?? "secret"} from "${RUNTIME_MODULE}" in each module that calls it (a bundle's entry may export it, for code outside the bundle)`;
}

function langOf(filename: string): "js" | "jsx" | "ts" | "tsx" | undefined {
  const m = /\.([cm]?)([jt]sx?)$/.exec(filename.replace(/[?#].*$/, ""));
  return m ? (m[2] as "js" | "jsx" | "ts" | "tsx") : undefined;
}

interface CallLike {
  type: "CallExpression";
  callee: Node;
  arguments: Node[];
}

function literalValue(node: Node): string | undefined {
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

/** `require("<module>")`, or with `prefix`, a require of anything starting with it. */
function isRequireOf(node: Node | null | undefined, module: string, prefix = false): boolean {
  if (!node || node.type !== "CallExpression") return false;
  if (node.callee.type !== "Identifier" || node.callee.name !== "require") return false;
  const a = node.arguments[0] as Node | undefined;
  if (!a || a.type !== "Literal" || typeof a.value !== "string") return false;
  return prefix ? a.value.startsWith(module) : a.value === module;
}

function memberName(node: Node): string | undefined {
  if (node.type !== "MemberExpression") return undefined;
  if (!node.computed && node.property.type === "Identifier") return node.property.name;
  if (node.computed) return literalValue(node.property as Node);
  return undefined;
}

function calleeName(node: Node): string {
  return node.type === "Identifier" ? node.name : (memberName(node) ?? "secret");
}

/** Whether `node` (an identifier or `ns.secret`) is `secret`/`secretBytes` of the runtime. */
function isRuntimeFunction(node: Node, tracker: ScopeTracker): boolean {
  if (node.type === "Identifier") {
    const decl = tracker.getDeclaration(node.name);
    return decl ? importedName(decl) !== undefined && SECRET_FUNCTIONS.has(importedName(decl) as string) : false;
  }
  if (node.type === "MemberExpression") {
    const prop = memberName(node);
    if (!prop || !SECRET_FUNCTIONS.has(prop)) return false;
    const obj = node.object as Node;
    if (isRequireOf(obj, RUNTIME_MODULE)) return true;
    if (obj.type !== "Identifier") return false;
    const decl = tracker.getDeclaration(obj.name);
    return decl ? importedName(decl) === "*" : false;
  }
  return false;
}

/**
 * For a declaration that binds something from the runtime: the exported name it binds
 * (`secret`, `secretBytes`), or `*` for the whole module; undefined otherwise.
 */
function importedName(decl: ScopeTrackerNode): string | undefined {
  if (decl.type === "Import") {
    if (decl.importNode.source.value !== RUNTIME_MODULE || decl.importNode.importKind === "type") return undefined;
    const spec = decl.node;
    if (spec.type === "ImportNamespaceSpecifier") return "*";
    if (spec.type === "ImportSpecifier") {
      if (spec.importKind === "type") return undefined;
      return spec.imported.type === "Identifier" ? spec.imported.name : String(spec.imported.value);
    }
    return undefined;
  }
  if (decl.type === "Variable") {
    // const sk = require("@sealkit/runtime") / const { secret: s } = require("@sealkit/runtime")
    for (const d of decl.variableNode.declarations) {
      if (!isRequireOf(d.init as Node, RUNTIME_MODULE)) continue;
      if (d.id.type === "Identifier" && d.id === decl.node) return "*";
      if (d.id.type === "ObjectPattern") {
        for (const p of d.id.properties) {
          if (p.type !== "Property" || p.value !== decl.node) continue;
          if (p.key.type === "Identifier" && !p.computed) return p.key.name;
          return literalValue(p.key as Node);
        }
      }
    }
  }
  return undefined;
}
