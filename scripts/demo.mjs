#!/usr/bin/env node
// `pnpm demo`: the main job, end to end, on the built-in local provider, in a temp dir.
// It runs the step modules in scripts/demo/ in name order; each exports
// `default async function (ctx)`. See docs/architecture.md, "Demo".
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const cliBin = join(root, "packages/cli/dist/bin.js");
const dir = mkdtempSync(join(tmpdir(), "sealkit-demo-"));
const keep = process.env.SEALKIT_DEMO_KEEP === "1";

const env = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  SEALKIT_LOCAL_KEY: "",
  SEALKIT_STORE: "",
  NO_COLOR: "1",
};

let stepNo = 0;
const ctx = {
  root,
  dir,
  env,
  /** Runs the sealkit CLI in the demo dir; throws on a non-zero exit. */
  cli(args, { input, env: extra, allowFail = false } = {}) {
    const r = spawnSync(process.execPath, [cliBin, ...args], {
      cwd: dir,
      input,
      env: { ...env, ...extra },
      encoding: "utf8",
    });
    if (r.status !== 0 && !allowFail) {
      throw new Error(`sealkit ${args.join(" ")} exited ${r.status}: ${r.stderr || r.stdout}`);
    }
    return r;
  },
  log(step, text) {
    if (step) console.log(`\n[${++stepNo}] ${step}`);
    if (text) for (const line of String(text).trimEnd().split("\n")) console.log(`    ${line}`);
  },
};

try {
  console.log(`Sealkit demo in ${dir}`);
  const steps = readdirSync(join(here, "demo"))
    .filter((f) => /^\d+-.*\.mjs$/.test(f))
    .sort();
  for (const f of steps) {
    const mod = await import(pathToFileURL(join(here, "demo", f)).href);
    await mod.default(ctx);
  }
  console.log(`\n✓ demo finished: ${steps.length} parts, every step passed`);
} catch (e) {
  console.error(`\n✗ demo failed: ${e?.message ?? e}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`(kept ${dir})`);
  else rmSync(dir, { recursive: true, force: true });
}
