import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import { SealkitError } from "@sealkit/envelope";
import { createContext } from "@sealkit/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Project, VALUES, makeProject } from "./_support.js";

let p: Project;
let ctx: ReturnType<typeof createContext>;
beforeAll(async () => {
  p = await makeProject();
  ctx = createContext({ root: p.dir, dts: false, manifest: false });
  ctx.startBuild();
});
afterAll(() => p.cleanup());

const specs = (code: string) => [...code.matchAll(/(?:import |require\()"sealkit~secret\/[^/]+\/([^"]+)"/g)].map((m) => m[1]);

async function buildError(code: string, id: string, c = ctx): Promise<SealkitError> {
  const e = await c.transform(code, join(p.dir, id)).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SealkitError);
  expect((e as SealkitError).code).toBe("E_BUILD");
  return e as SealkitError;
}

describe("transform: which calls count", () => {
  it("named, aliased and namespace imports; each name once", async () => {
    const code = [
      'import { secret, secretBytes as bytes } from "@sealkit/runtime";',
      'import * as sk from "@sealkit/runtime";',
      'const a = await secret("db-password");',
      "const b = await sk.secret(`api-key`);",
      'const c = await bytes("token");',
      'const d = await sk["secret"]("db-password");',
    ].join("\n");
    const out = await ctx.transform(code, join(p.dir, "a.ts"));
    expect(specs(out?.code ?? "")).toEqual(["db-password", "api-key", "token"]);
    // the calls themselves are untouched: the runtime finds the envelope by name
    expect(out?.code).toContain('secret("db-password")');
  });

  it("ignores other functions named secret and locals that shadow the import", async () => {
    const code = [
      'import { secret } from "@sealkit/runtime";',
      'import { secret as vault } from "./vault";',
      'vault("not-in-store");',
      'function f(secret) { return secret("also-not"); }',
      'function g() { return secret("hoisted-not"); function secret(x) { return x; } }',
      '{ const secret = (x) => x; secret("block-not"); }',
      'export const h = () => secret("api-key");',
    ].join("\n");
    const out = await ctx.transform(code, join(p.dir, "b.ts"));
    expect(specs(out?.code ?? "")).toEqual(["api-key"]);
  });

  it("CommonJS require, destructured and as a namespace, gets require() lines", async () => {
    const code = [
      '"use strict";',
      'const { secret: s } = require("@sealkit/runtime");',
      'const rt = require("@sealkit/runtime");',
      'exports.a = () => s("db-password");',
      'exports.b = () => (0, rt.secret)("api-key");',
      'exports.c = () => require("@sealkit/runtime").secretBytes("token");',
    ].join("\n");
    const out = await ctx.transform(code, join(p.dir, "c.cjs"));
    expect(out?.code).toMatch(/^"use strict";require\("sealkit~secret\//);
    expect(out?.code).not.toContain("import ");
    expect(specs(out?.code ?? "")).toEqual(["db-password", "api-key", "token"]);
  });

  it("TSX with types", async () => {
    const code = [
      'import { secret, type SecretName } from "@sealkit/runtime";',
      "const n: SecretName = 'x' as SecretName;",
      "export function App(): JSX.Element { return <div title={String(n)} />; }",
      'export const key = async (): Promise<string> => await secret("api-key");',
    ].join("\n");
    const out = await ctx.transform(code, join(p.dir, "App.tsx"));
    expect(specs(out?.code ?? "")).toEqual(["api-key"]);
  });

  it("a secret only in a comment or a string changes nothing", async () => {
    const code = [
      'import { preload } from "@sealkit/runtime";',
      '// await secret("db-password")',
      "const doc = 'call secret(\"api-key\") to read';",
      "const secret = (n: string) => n; secret('token');",
      "await preload();",
    ].join("\n");
    expect(await ctx.transform(code, join(p.dir, "d.ts"))).toBeUndefined();
    expect(await ctx.transform('const s = "secret(\\"db-password\\")";', join(p.dir, "e.js"))).toBeUndefined();
  });

  it("is idempotent: a second run changes nothing", async () => {
    const code = '#!/usr/bin/env node\nimport { secret } from "@sealkit/runtime";\nconsole.log(await secret("db-password"), await secret("api-key"));\n';
    const once = await ctx.transform(code, join(p.dir, "f.mjs"));
    expect(once?.code.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(await ctx.transform(once?.code ?? "", join(p.dir, "f.mjs"))).toBeUndefined();
  });

  it("keeps every line where it was, and maps back to the source", async () => {
    const code = 'import { secret } from "@sealkit/runtime";\n\nexport const x = () => secret("token");\n';
    const out = await ctx.transform(code, join(p.dir, "g.ts"));
    const before = code.split("\n");
    const after = (out?.code ?? "").split("\n");
    expect(after.length).toBe(before.length);
    expect(after.slice(1)).toEqual(before.slice(1));
    expect(out?.map.sources).toEqual([join(p.dir, "g.ts")]);
    const map = new TraceMap(out?.map as never);
    const col = (before[2] as string).indexOf("secret(");
    expect(originalPositionFor(map, { line: 3, column: col })).toMatchObject({ line: 3, column: col });
    const col1 = (after[0] as string).indexOf('from "@sealkit/runtime"');
    expect(originalPositionFor(map, { line: 1, column: col1 })).toMatchObject({ line: 1, column: (before[0] as string).indexOf('from "@sealkit/runtime"') });
  });

  it("virtual modules carry the one key record and each envelope, never a value", async () => {
    const s = await ctx.store();
    const key = await ctx.load(`\0sealkit~key/${s.storeId}`);
    const one = await ctx.load(`\0sealkit~secret/${s.storeId}/db-password`);
    expect(key?.match(/sealkit-key:1:/g)).toHaveLength(1);
    expect(key).toContain('import "@sealkit/envelope/local"');
    expect(key).toMatch(/pins: \["local:local:[0-9a-f]{8}"\]/);
    expect(one).toMatch(/"db-password": "sealkit:1:[^"]+:1:db-password:/);
    for (const v of Object.values(VALUES)) expect(`${key}${one}`).not.toContain(v);
  });
});

describe("build errors: message and location", () => {
  it("unknown name, with did you mean, at the argument", async () => {
    const e = await buildError('import { secret } from "@sealkit/runtime";\n\nawait secret("db-pasword");\n', "h.ts");
    expect(e.message).toContain('no secret named "db-pasword"');
    expect(e.message).toContain('did you mean "db-password"?');
    expect(e.message).toMatch(/h\.ts:3:14: /);
    expect(e.details).toMatchObject({ line: 3, column: 13 });
    expect(String(e.details.frame)).toContain('> 3 | await secret("db-pasword");');
  });

  it("non-literal argument, saying why", async () => {
    const e = await buildError('import { secret } from "@sealkit/runtime";\nconst n = "x";\nawait secret(`db-${n}`);\n', "i.ts");
    expect(e.message).toContain("must be a string literal");
    expect(e.message).toContain("know at build time which secrets this bundle needs");
    expect(e.details).toMatchObject({ line: 3, column: 13 });
  });

  it("secret passed around as a value", async () => {
    const e = await buildError('import { secret } from "@sealkit/runtime";\nexport const get = secret;\n', "j.ts");
    expect(e.message).toContain("without being called");
    expect(e.details).toMatchObject({ line: 2, column: 19 });
  });

  it.each([
    { code: 'export { secret } from "@sealkit/runtime";\n', at: [1, 9], says: "secret is exported here for other modules to call" },
    { code: 'export { secretBytes as read } from "@sealkit/runtime";\n', at: [1, 9], says: "secretBytes is exported here" },
    { code: 'export * from "@sealkit/runtime";\n', at: [1, 0], says: 'export * from "@sealkit/runtime" re-exports secret()' },
    { code: 'export * as sk from "@sealkit/runtime";\n', at: [1, 0], says: 'export * as … from "@sealkit/runtime" re-exports' },
    { code: 'import { secret } from "@sealkit/runtime";\nexport { secret as get };\n', at: [2, 9], says: "secret is exported here" },
    { code: 'import * as sk from "@sealkit/runtime";\nexport { sk };\n', at: [2, 9], says: "the @sealkit/runtime module is exported here" },
    { code: 'import * as sk from "@sealkit/runtime";\nexport default sk;\n', at: [2, 15], says: "the @sealkit/runtime module is exported here" },
    { code: 'import { secret } from "@sealkit/runtime";\nexport default secret;\n', at: [2, 15], says: "secret is exported here" },
    { code: 'import * as sk from "@sealkit/runtime";\nconst { secret } = sk;\n', at: [2, 19], says: "used here as a whole" },
    { code: 'export const read = async () => (await import("@sealkit/runtime")).secret("token");\n', at: [1, 39], says: "loads the runtime where the plugin cannot follow it" },
    { code: 'module.exports = require("@sealkit/runtime");\n', at: [1, 17], says: "used here as a whole", file: "n.cjs" },
    { code: 'const sk = require("@sealkit/runtime");\nmodule.exports = { sk };\n', at: [2, 19], says: "used here as a whole", file: "n.cjs" },
  ])("secret handed to other modules (re-exported, or the runtime as a value): $code", async ({ code, at, says, file }) => {
    const e = await buildError(code, file ?? "n.ts");
    expect(e.message).toContain(says);
    expect(e.message).toContain("would build without their envelopes");
    expect(e.details).toMatchObject({ line: at[0], column: at[1] });
  });

  it("an entry of the bundle may export secret and the runtime (for code outside the bundle); other escapes stay errors there", async () => {
    const code = 'import * as sk from "@sealkit/runtime";\nimport { secret } from "@sealkit/runtime";\nexport { secret, sk };\nexport * from "@sealkit/runtime";\nexport const read = () => secret("token");\n';
    let asked = 0;
    const entry = () => {
      asked++;
      return true;
    };
    expect(specs((await ctx.transform(code, join(p.dir, "e1.ts"), { entry }))?.code ?? "")).toEqual(["token"]);
    expect(asked).toBe(1);
    const e = await buildError(code, "e2.ts");
    expect(e.details).toMatchObject({ line: 3, column: 9 });
    // asked only when the module exports something: a plain importer costs no bundler call
    asked = 0;
    await ctx.transform('import { secret } from "@sealkit/runtime";\nexport const read = () => secret("token");\n', join(p.dir, "e3.ts"), { entry });
    expect(asked).toBe(0);
    const escaped = await ctx
      .transform('import * as sk from "@sealkit/runtime";\nconst get = sk;\nexport const read = () => get.secret("token");\n', join(p.dir, "e4.ts"), { entry })
      .catch((x: SealkitError) => x);
    expect((escaped as SealkitError).message).toContain("used here as a whole");
  });

  it("re-exporting the rest of the runtime, reading from its namespace and requiring it are fine", async () => {
    const fine = [
      ["o1.ts", 'export { configure, preload } from "@sealkit/runtime";\nexport type { SecretNames } from "@sealkit/runtime";\n'],
      ["o2.ts", 'import * as sk from "@sealkit/runtime";\nsk.configure({});\nexport const read = () => sk.secret("token");\n'],
      ["o3.cjs", 'require("@sealkit/runtime");\nconst { configure } = require("@sealkit/runtime");\nconfigure({});\nexports.read = () => require("@sealkit/runtime").secret("token");\n'],
    ] as const;
    for (const [file, code] of fine) {
      const out = await ctx.transform(code, join(p.dir, file));
      expect(specs(out?.code ?? ""), file).toEqual(file === "o1.ts" ? [] : ["token"]);
    }
  });

  it("missing store", async () => {
    const c = createContext({ root: p.dir, store: "nope.secrets.json", dts: false, manifest: false });
    const e = await buildError('import { secret } from "@sealkit/runtime";\nawait secret("db-password");\n', "k.ts", c);
    expect(e.message).toContain("cannot read the Sealkit store");
    expect(e.message).toContain("nope.secrets.json");
    expect(e.message).toContain("sealkit init");
    expect(e.details).toMatchObject({ line: 2, column: 13 });
  });

  it("corrupt store", async () => {
    await writeFile(join(p.dir, "bad.secrets.json"), '{"sealkit": 1, "storeId": ');
    const c = createContext({ root: p.dir, store: "bad.secrets.json", dts: false, manifest: false });
    const e = await buildError('import { secret } from "@sealkit/runtime";\nawait secret("db-password");\n', "l.ts", c);
    expect(e.message).toContain("not valid JSON");
    expect(e.details).toMatchObject({ line: 2, column: 13 });
  });

  it("secret() in a browser-targeted bundle, unless allowed", async () => {
    const code = 'import { secret } from "@sealkit/runtime";\nawait secret("token");\n';
    const e = await buildError(code, "m.ts", { ...ctx, transform: (c, id) => ctx.transform(c, id, { browser: true }) } as typeof ctx);
    expect(e.message).toContain("browser-targeted bundle");
    expect(e.message).toContain("allowBrowser");
    expect(e.details).toMatchObject({ line: 2, column: 13 });
    const allowed = createContext({ root: p.dir, allowBrowser: true, dts: false, manifest: false });
    expect(specs((await allowed.transform(code, join(p.dir, "m.ts"), { browser: true }))?.code ?? "")).toEqual(["token"]);
  });

  it("a per-environment store without the environment", () => {
    const c = createContext({ root: p.dir, store: { production: "prod.json" }, env: "staging", dts: false });
    return expect(c.store()).rejects.toThrow(/no store for environment "staging".*"production"/);
  });
});
