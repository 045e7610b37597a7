/**
 * The quick scan (oxc's module record, no JavaScript AST) must give the full scan's answer
 * whenever it gives one, and must give one for ordinary function code (else it saves nothing).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { lexScan } from "../src/lex-scan.js";
import { quickScan } from "../src/quick-scan.js";
import { type ScanResult, parserOptions, scanModule } from "../src/scan.js";

const quick = (code: string, file = "/p/a.ts") => quickScan(code, file, parserOptions(file));
const lex = (code: string, file = "/p/a.ts") => lexScan(code, file);
const answer = (r: ScanResult) => ({ refs: r.refs, problems: r.problems, registered: [...r.registered], commonjs: r.commonjs, appendAt: r.appendAt });

/** Files the quick scan must answer itself, each with the names it reads. */
const ANSWERED: [string, string, string[]][] = [
  ["named", 'import { secret } from "@sealkit/runtime";\nexport const a = () => secret("db-password");\n', ["db-password"]],
  [
    "aliased, namespace, bracket, template, several imports",
    [
      'import { secret, secretBytes as bytes } from "@sealkit/runtime";',
      'import * as sk from "@sealkit/runtime"',
      "const a = await secret('a');",
      "const b = await sk.secret(`b`);",
      'const c = await bytes("c");',
      'const d = await sk["secretBytes"]( "d" );',
      "sk.preload(); await sk.dispose?.();",
    ].join("\n"),
    ["a", "b", "c", "d"],
  ],
  [
    "the name in comments, strings, templates, regexes, member calls and types",
    [
      'import { secret } from "@sealkit/runtime";',
      '// secret("in-a-comment") and secret itself',
      '/* secret("block") */ const s1 = "secret(\\"str\\")"; const s2 = \'secret\';',
      'const t = `secret("tpl") ${secret("real")} secret`;',
      'const r = /secret("re")/; const o = { x: 1 }.x; obj.secret("member"); obj?.secret;',
    ].join("\n"),
    ["real"],
  ],
  ["no runtime binding (preload only)", 'import { preload } from "@sealkit/runtime";\nawait preload();\nconst secret = (x: string) => x; secret("x");\n', []],
  ["type-only import", 'import type { secret } from "@sealkit/runtime";\nexport type S = typeof secret;\n', []],
  ["hashbang, directive, no semicolon", '#!/usr/bin/env node\n"use strict";\nimport { secret } from "@sealkit/runtime"\nconsole.log(await secret("x"));\n', ["x"]],
  ["idempotent: already registered", 'import { secret } from "@sealkit/runtime";import "sealkit~secret/abcdefghijklmnop/x";\nawait secret("x");\n', ["x"]],
  ["TSX", 'import { secret } from "@sealkit/runtime";\nexport const App = () => <p title={String(secret("x"))}>secret("text")</p>;\n', ["x"]],
  ["a decorator call", 'import { secret } from "@sealkit/runtime";\n@secret("x") class A {}\n', ["x"]],
];

/** Files it must hand to the full scan (it cannot prove the answer), whatever that answer is. */
const HANDED_OVER: [string, string][] = [
  ["a parameter shadows", 'import { secret } from "@sealkit/runtime";\nfunction f(secret) { return secret("x"); }\n'],
  ["a hoisted function shadows", 'import { secret } from "@sealkit/runtime";\nfunction g() { return secret("x"); function secret(y) { return y; } }\n'],
  ["a block const shadows", 'import { secret } from "@sealkit/runtime";\n{ const secret = (x) => x; secret("x"); }\n'],
  ["a destructured parameter shadows", 'import { secret } from "@sealkit/runtime";\nconst f = ({ secret }) => secret("x");\n'],
  ["a namespace parameter shadows", 'import * as sk from "@sealkit/runtime";\nconst f = (sk) => sk.secret("x");\n'],
  ["used as a value", 'import { secret } from "@sealkit/runtime";\nexport const get = secret;\n'],
  ["namespace member as a value", 'import * as sk from "@sealkit/runtime";\nexport const get = sk.secret;\n'],
  ["non-literal argument", 'import { secret } from "@sealkit/runtime";\nconst n = "x";\nawait secret(`db-${n}`);\n'],
  ["no argument", 'import { secret } from "@sealkit/runtime";\nawait secret();\n'],
  ["optional call", 'import { secret } from "@sealkit/runtime";\nawait secret?.("x");\n'],
  ["generic call", 'import { secret } from "@sealkit/runtime";\nawait secret<string>("x");\n'],
  ["new", 'import { secret } from "@sealkit/runtime";\nnew secret("x");\n'],
  ["sequence callee", 'import * as sk from "@sealkit/runtime";\n(0, sk.secret)("x");\n'],
  ["require", 'const { secret } = require("@sealkit/runtime");\nsecret("x");\n'],
  ["escaped identifier", 'import { secret } from "@sealkit/runtime";\n\\u0073ecret("x");\n'],
  ["another module's secret", 'import { secret } from "@sealkit/runtime";\nimport { secret as vault } from "./vault";\nvault("y");\n'],
  ["syntax error", 'import { secret } from "@sealkit/runtime";\nsecret("x"\n'],
  ["import clause not foreseen", 'import { "secret" as s } from "@sealkit/runtime";\ns("x");\n'],
  ["escape in the literal", 'import { secret } from "@sealkit/runtime";\nsecret("a\\x62");\n'],
  ["object key", 'import { secret } from "@sealkit/runtime";\nconst o = { secret: 1 };\nsecret("x");\n'],
  ["shorthand property", 'import { secret } from "@sealkit/runtime";\nconst o = { secret };\n'],
  ["a type query (typeof import.meta is no type)", 'import { secret } from "@sealkit/runtime";\ntype T = typeof secret;\nsecret("x");\n'],
  ["comment after the import", 'import { secret } from "@sealkit/runtime"; // read\nsecret("x");\n'],
];

describe("quick scan", () => {
  it.each(ANSWERED)("answers: %s, as the full scan does", (_, code, names) => {
    const file = _ === "TSX" ? "/p/a.tsx" : "/p/a.ts";
    const q = quick(code, file);
    expect(q).toBeDefined();
    expect(answer(q as ScanResult)).toEqual(answer(scanModule(code, file)));
    expect((q as ScanResult).refs.map((r) => r.name)).toEqual(names);
  });

  it.each(HANDED_OVER)("hands over: %s", (_, code) => {
    expect(quick(code, "/p/a.ts")).toBeUndefined();
  });

  it("never disagrees with the full scan on the handed-over files' variations", () => {
    // Each handed-over file with the binding renamed away: either no answer, or the full scan's.
    for (const [, code] of HANDED_OVER) {
      for (const variant of [code, code.replace(/secret/g, "fetchSecret"), code.replace(/\n/g, "\n\n")]) {
        const q = quick(variant);
        if (q) expect(answer(q)).toEqual(answer(scanModule(variant, "/p/a.ts")));
      }
    }
  });
});

/** Lexing traps: each either handed over or answered exactly as the full scan answers. */
const TRAPS: string[] = [
  'if (a) /secret("x")/.test(s);',
  'const q = (a + b) / secret("x") / 2;',
  'const q = a / secret("x") / 2;',
  'const q = total! / secret("x") / 2;',
  'if (!/secret("x")/.test(s)) {}',
  'const r = x.if(a) / secret("x") / 2;',
  'const r = x.return / secret("x") / 2;',
  'const o = {} / secret("x") / 2;',
  "const t = `a ${ { k: `b ${secret(\"x\")}` }.k } c`;",
  'const s = "a\\"secret(\'x\')\\"";',
  'i++ / secret("x") / 2;',
  'await /secret("y")/; secret("x");',
  '/* secret("y") */ secret("x"); // secret("z")',
  'const re = /[/]secret("y")/; secret("x");',
  "const n = 1.5e+3 / 2; const m = .5 / 2; secret(`x`);",
  'class A { #secret = 1; m() { return this.#secret; } } secret("x");',
  'const o = { a: secret("x"), [secret("y")]: 1, ...o2 };',
  'label: for (;;) { break label; } secret("x");',
  'export default /secret("y")/;\nsecret("x");',
  'for (;;) { break\n/secret("y")/.test(s); }\nsecret("x");',
];

describe("lex scan", () => {
  it.each(ANSWERED.filter(([n]) => !["TSX", "a decorator call"].includes(n)))("answers: %s", (_, code, names) => {
    const l = lex(code);
    expect(l).toBeDefined();
    expect(answer(l as ScanResult)).toEqual(answer(scanModule(code, "/p/a.ts")));
    expect((l as ScanResult).refs.map((r) => r.name)).toEqual(names);
  });

  it("answers ordinary function code (the benchmark's modules)", () => {
    const code = [
      'import { secret } from "@sealkit/runtime";',
      "export interface Row { id: number; label: string; tags: string[] }",
      "export function make(n: number): Row[] {",
      "  const out: Row[] = [];",
      '  for (let k = 0; k < n; k++) out.push({ id: k * 2, label: "row-" + k, tags: ["a", "b", String(k % 7)] });',
      "  return out.filter((r) => r.id % 3 !== 1).map((r) => ({ ...r, label: r.label.toUpperCase() }));",
      "}",
      'export async function read() { return secret("secret-1"); }',
    ].join("\n");
    expect(lex(code)?.refs.map((r) => r.name)).toEqual(["secret-1"]);
  });

  it.each(HANDED_OVER)("hands over or agrees: %s", (_, code) => {
    const l = lex(code);
    if (l) expect(answer(l)).toEqual(answer(scanModule(code, "/p/a.ts")));
  });

  it.each(TRAPS)("hands over or agrees: %s", (body) => {
    const code = `import { secret } from "@sealkit/runtime";\n${body}\n`;
    const l = lex(code);
    if (l) expect(answer(l)).toEqual(answer(scanModule(code, "/p/a.ts")));
  });

  it("hands over JSX, require and non-ASCII code", () => {
    expect(lex('import { secret } from "@sealkit/runtime";\nconst a = <p>it\'s</p>; secret("x");\n', "/p/a.jsx")).toBeUndefined();
    expect(lex('const { secret } = require("@sealkit/runtime");\nsecret("x");\n')).toBeUndefined();
    expect(lex('import { secret } from "@sealkit/runtime";\nconst é = 1; secret("x");\n')).toBeUndefined();
  });
});

describe("both fast paths against the full scan on this repository's own sources", () => {
  const packages = join(dirname(fileURLToPath(import.meta.url)), "../..");
  const files = readdirSync(packages).flatMap((p) => {
    try {
      return (readdirSync(join(packages, p, "src"), { recursive: true }) as string[]).filter((f) => /\.tsx?$/.test(f)).map((f) => join(packages, p, "src", f));
    } catch {
      return [];
    }
  });

  it("never disagrees, and answers most files", () => {
    let answered = 0;
    let total = 0;
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      for (const code of [
        `import { secret } from "@sealkit/runtime";\n${text}\nsecret("x");\n`,
        `import * as sk from "@sealkit/runtime";\n${text}\nsk.secretBytes('y');\n`,
      ]) {
        total++;
        const full = answer(scanModule(code, f));
        const l = lex(code, f);
        const q = quick(code, f);
        if (l) answered++;
        if (l) expect(answer(l), f).toEqual(full);
        if (q) expect(answer(q), f).toEqual(full);
      }
    }
    expect(total).toBeGreaterThan(100);
    expect(answered / total).toBeGreaterThan(0.5);
  });
});
