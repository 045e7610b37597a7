/** The `scan` option: the end-of-build leak check, for builders that hold decrypt rights. */
import { join } from "node:path";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import sealkitRollup from "@sealkit/plugin/rollup";
import * as esbuild from "esbuild";
import { rollup } from "rollup";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Project, VALUES, makeProject } from "./_support.js";

let p: Project;
beforeAll(async () => {
  p = await makeProject();
  await p.write({
    "src/clean.ts": 'import { secret } from "@sealkit/runtime";\nexport const a = () => secret("db-password");\n',
    // A value pasted into code as well: exactly the mistake the scan exists to catch.
    "src/leaky.ts": `import { secret } from "@sealkit/runtime";\nexport const a = () => secret("db-password");\nexport const oops = ${JSON.stringify(Buffer.from(VALUES["api-key"] as string).toString("base64"))};\n`,
  });
});
afterAll(() => p.cleanup());

const build = (entry: string, outdir: string, scan: boolean) =>
  esbuild.build({
    entryPoints: [join(p.dir, "src", entry)],
    bundle: true,
    platform: "node",
    format: "esm",
    outdir: join(p.dir, outdir),
    sourcemap: true,
    logLevel: "silent",
    external: ["@sealkit/*"],
    plugins: [sealkitEsbuild({ root: p.dir, dts: false, scan })],
  });

describe("scan option", () => {
  it("a clean build passes the scan", async () => {
    const r = await build("clean.ts", "out-clean", true);
    expect(r.errors).toEqual([]);
  });

  it("esbuild: a value in the output fails the build with E_LEAK, naming file and encoding but not the value", async () => {
    const err = (await build("leaky.ts", "out-leaky", true).catch((e) => e)) as esbuild.BuildFailure;
    const m = err.errors?.[0];
    expect(m?.text).toMatch(/plaintext of 1 secret\(s\) found/);
    expect(m?.text).toContain("api-key, base64");
    expect(m?.text).toContain("leaky.js");
    expect(JSON.stringify(err.errors)).not.toContain(VALUES["api-key"]);
  });

  it("without the option, the same build succeeds (builds need no key rights by default)", async () => {
    const r = await build("leaky.ts", "out-noscan", false);
    expect(r.errors).toEqual([]);
  });

  it("Rollup: the leak fails the build too", async () => {
    const bundle = await rollup({
      input: join(p.dir, "src/leaky.ts"),
      external: (id) => id.startsWith("@sealkit/"),
      plugins: [sealkitRollup({ root: p.dir, dts: false, scan: true })],
      onwarn: () => {},
    });
    const err = await bundle.write({ dir: join(p.dir, "out-rollup"), format: "esm" }).catch((e) => e);
    expect(String(err?.message)).toContain("api-key, base64");
  });

  it("rejects a bad scan option", () => {
    expect(() => sealkitEsbuild({ root: p.dir, scan: { minLength: 0 } })).toThrow(/scan/);
  });
});
