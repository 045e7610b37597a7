/**
 * Builds each example with its real bundler (esbuild, Vite, webpack, Rspack, Rollup) against
 * a fresh local-provider store, runs the output, and checks what the bundle carries.
 * Needs `pnpm build` first (the bundlers load dist/).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { toBase64 } from "@sealkit/envelope";
import { initStore, setSecrets } from "@sealkit/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const runner = join(root, "test/e2e/_run-bundle.mjs");

const VALUES: Record<string, string> = {
  "db-password": "pw-e2e-Qx7!correct horse/é",
  "api-key": "ak-e2e-4c1f9b0a77d2",
  token: "tk-e2e-0d9e8f7a6b",
  "unused-secret": "us-e2e-never-in-a-bundle",
};

interface Case {
  name: string;
  example: string;
  build: string[];
  out: string;
  referenced: string[];
}

const CASES: Case[] = [
  { name: "esbuild", example: "aws-lambda-esbuild", build: ["build.mjs"], out: "dist/handler.mjs", referenced: ["api-key", "db-password"] },
  { name: "vite", example: "vite-ssr", build: ["build.mjs"], out: "dist/worker.mjs", referenced: ["api-key", "token"] },
  { name: "webpack", example: "webpack-node", build: ["build.mjs", "--bundler", "webpack"], out: "dist/webpack/handler.cjs", referenced: ["db-password", "token"] },
  { name: "rspack", example: "webpack-node", build: ["build.mjs", "--bundler", "rspack"], out: "dist/rspack/handler.cjs", referenced: ["db-password", "token"] },
  { name: "rollup", example: "webpack-node", build: ["build.mjs", "--bundler", "rollup"], out: "dist/rollup/handler.mjs", referenced: ["db-password", "token"] },
];

let dir: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sealkit-e2e-plugin-"));
  const localKey = toBase64(randomBytes(32));
  process.env.SEALKIT_LOCAL_KEY = localKey;
  await import("@sealkit/envelope/local");
  const store = join(dir, "sealkit.secrets.json");
  await initStore({ path: store, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(store, new Map(Object.entries(VALUES).map(([k, v]) => [k, new TextEncoder().encode(v)])));
  env = { ...process.env, SEALKIT_STORE: store, SEALKIT_LOCAL_KEY: localKey, NODE_ENV: "production" };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Every encoding `sealkit scan` looks for. */
function encodings(v: string): string[] {
  const b = Buffer.from(v, "utf8");
  return [v, b.toString("base64"), b.toString("base64url"), b.toString("hex"), encodeURIComponent(v), JSON.stringify(v).slice(1, -1)];
}

describe.each(CASES)("example built with $name", (c) => {
  const exampleDir = join(root, "examples", c.example);
  const outFile = join(exampleDir, c.out);
  const outDir = dirname(outFile);

  beforeAll(async () => {
    await rm(outDir, { recursive: true, force: true });
    await run(process.execPath, c.build, { cwd: exampleDir, env, timeout: 120_000 });
  }, 180_000);

  it("the handler gets the right values, with one unwrap per store", async () => {
    const { stdout } = await run(process.execPath, [runner, outFile, "config"], { cwd: exampleDir, env });
    const r = JSON.parse(stdout) as { first: Record<string, string>; second: Record<string, string>; unwraps: number };
    const expected = Object.fromEntries(Object.keys(r.first).map((k) => [k, VALUES[k]]));
    expect(Object.keys(r.first).sort()).toEqual(c.referenced);
    expect(r.first).toEqual(expected);
    expect(r.second).toEqual(expected);
    expect(r.unwraps).toBe(1);
  });

  it("no plaintext in the output or its source maps; only referenced envelopes; one data-key record", async () => {
    // Recursive: Vite puts the runtime's lazily imported development fallback in assets/.
    const files = (await readdir(outDir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name));
    expect(files.some((f) => f.endsWith(".map"))).toBe(true);
    for (const f of files) {
      const text = await readFile(f, "utf8");
      for (const v of Object.values(VALUES)) for (const e of encodings(v)) expect(text.includes(e), `${e} in ${f}`).toBe(false);
    }
    const code = await readFile(outFile, "utf8");
    expect(code.match(/sealkit-key:1:[A-Za-z0-9_-]+/g)).toHaveLength(1);
    const names = [...code.matchAll(/sealkit:1:[A-Za-z0-9_-]+:\d+:([A-Za-z0-9_.-]+):/g)].map((m) => m[1]);
    expect(names.sort()).toEqual(c.referenced);
    expect(code).not.toContain("unused-secret");
  });

  it("the manifest lists exactly the referenced names", async () => {
    const m = JSON.parse(await readFile(join(outDir, "sealkit-manifest.json"), "utf8"));
    const entry = m.outputs[c.out.split("/").pop() as string];
    expect(entry.stores).toHaveLength(1);
    expect(entry.stores[0].secrets).toEqual(c.referenced);
    expect(entry.stores[0].keys[0]).toMatchObject({ provider: "local", keyRef: expect.stringMatching(/^local:[0-9a-f]{8}$/) });
    expect(JSON.stringify(m)).not.toContain("unused-secret");
  });
});
