/**
 * The Vite entry with Vite 7 (Rollup inside), beside the Vite 8 (Rolldown) e2e tests:
 * build an SSR bundle with the plugin, run it in a fresh process, check values, one unwrap,
 * one data-key record, and no plaintext in the output or its source map.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import sealkit from "@sealkit/plugin/vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build, version } from "vite7";
import { type Project, VALUES, makeProject } from "../../packages/plugin/test/_support.js";
import { leaksInDir } from "../support/canary.js";

const runner = join(import.meta.dirname, "_run-bundle.mjs");
let p: Project;

beforeAll(async () => {
  p = await makeProject();
  await p.write({
    "src/handler.ts": [
      'import { secret } from "@sealkit/runtime";',
      'import * as sk from "@sealkit/runtime";',
      "export async function config() {",
      '  return { "db-password": await secret("db-password"), "api-key": await sk.secret("api-key") };',
      "}",
      "",
    ].join("\n"),
  });
  await build({
    root: p.dir,
    configFile: false,
    logLevel: "silent",
    // The entry is typed against Vite 8's (Rolldown) plugin type; at run time it is the same plugin.
    plugins: [sealkit({ root: p.dir, dts: false }) as never],
    ssr: { noExternal: true },
    build: {
      ssr: join(p.dir, "src/handler.ts"),
      outDir: join(p.dir, "dist"),
      sourcemap: true,
      minify: true,
      rollupOptions: { output: { entryFileNames: "handler.mjs" } },
    },
  });
}, 120_000);
afterAll(() => p.cleanup());

describe(`plugin with Vite ${version}`, () => {
  it("is Vite 7", () => expect(version).toMatch(/^7\./));

  it("the handler gets its values with one unwrap", () => {
    const out = execFileSync(process.execPath, [runner, join(p.dir, "dist/handler.mjs"), "config"], {
      env: { ...process.env, SEALKIT_LOCAL_KEY: p.localKey },
      encoding: "utf8",
    });
    const r = JSON.parse(out);
    expect(r.first).toEqual({ "db-password": VALUES["db-password"], "api-key": VALUES["api-key"] });
    expect(r.unwraps).toBe(1);
  });

  it("one data-key record, only referenced envelopes, no plaintext, a manifest", () => {
    const dist = join(p.dir, "dist");
    const code = readFileSync(join(dist, "handler.mjs"), "utf8");
    expect(code.match(/sealkit-key:1:[A-Za-z0-9_-]+/g)).toHaveLength(1);
    expect(code).not.toMatch(/:unused-secret:/);
    expect(readdirSync(dist).some((f) => f.endsWith(".map"))).toBe(true);
    for (const v of Object.values(VALUES)) expect(leaksInDir(dist, v)).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(dist, "sealkit-manifest.json"), "utf8"));
    expect(manifest.outputs["handler.mjs"].stores[0].secrets).toEqual(["api-key", "db-password"]);
  });
});
