/**
 * AWS KMS cold start: what `@sealkit/aws-kms` costs a fresh Node process, from the first
 * line of the function to the data key in memory (import of the provider and its client,
 * then one Decrypt), against the local KMS server at 0 and 15 ms of added latency.
 *
 * Paths, each in fresh processes, interleaved round by round so machine noise spreads
 * evenly:
 * - bare:        `node` running an empty module (the floor every figure is taken over);
 * - sdk-import:  `import("@aws-sdk/client-kms")` alone;
 * - sealkit-sdk: `@sealkit/aws-kms` unwrap through `@aws-sdk/client-kms` (SEALKIT_AWS_KMS_CLIENT=sdk);
 * - sealkit-lite: `@sealkit/aws-kms` unwrap through the light client (node:https + SigV4), the
 *                 default on the runtime path when credentials come from the environment;
 * - bundle-lite:  the same, from one esbuild bundle (ESM, `@aws-sdk/*` external), as deployed.
 *
 *   pnpm build && node bench/aws-cold-start.mjs          (BENCH_RUNS=n, default 15)
 *
 * Prints a Markdown table (for docs/benchmarks.md) and writes bench/results/aws-cold-start.json.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === "--child") {
  // One cold start. performance.now() counts from process start, so `doneMs` includes Node's own boot.
  const mode = process.argv[3];
  const t0 = performance.now();
  let importMs;
  let decryptMs;
  if (mode === "bare") {
    importMs = 0;
    decryptMs = 0;
  } else if (mode === "sdk-import") {
    await import("@aws-sdk/client-kms");
    importMs = performance.now() - t0;
    decryptMs = 0;
  } else {
    let getProvider;
    if (mode === "bundle-lite") ({ getProvider } = await import(process.env.BENCH_AWS_BUNDLE));
    else {
      await import("@sealkit/aws-kms");
      ({ getProvider } = await import("@sealkit/envelope"));
    }
    const p = await getProvider("aws-kms");
    importMs = performance.now() - t0;
    const record = JSON.parse(process.env.BENCH_AWS_RECORD);
    const t1 = performance.now();
    const key = await p.unwrapKey(record, new AbortController().signal);
    decryptMs = performance.now() - t1;
    if (key.length !== 32) throw new Error("bad data key");
    key.fill(0);
    await p.dispose();
  }
  process.stdout.write(`${JSON.stringify({ mode, importMs, decryptMs, doneMs: performance.now() })}\n`);
  process.exit(0);
}

const { tsImport } = await import("tsx/esm/api");
const { startKmsServer } = await tsImport("../test/support/aws-kms-server.ts", import.meta.url);
const { guardProvider, wrapContext } = await import("@sealkit/envelope");

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const MODES = ["bare", "sdk-import", "sealkit-sdk", "sealkit-lite", "bundle-lite"];
const LATENCIES = [0, 15];

const server = await startKmsServer({ regions: ["us-east-1"] });
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDSEALKITCOLDBENCH",
  AWS_SECRET_ACCESS_KEY: "sealkit-bench-not-a-secret",
  AWS_ENDPOINT_URL_KMS: server.url,
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
Object.assign(process.env, env);
const key = server.createKey();
const { createAwsKmsProvider } = await import("@sealkit/aws-kms");
// Sealed once through the SDK path (no signal), as `sealkit init` would.
const sealer = guardProvider(await createAwsKmsProvider().load());
const record = await sealer.wrapKey(crypto.getRandomValues(new Uint8Array(32)), { keyRef: key.arn, context: wrapContext("BENCHBENCHBENCHBENCH00", 1) });
await sealer.dispose();

const esbuild = await import("esbuild");
const bundleDir = mkdtempSync(join(tmpdir(), "sealkit-aws-cold-"));
const bundleFile = join(bundleDir, "fn.mjs");
await esbuild.build({
  stdin: { contents: 'import "@sealkit/aws-kms";\nexport { getProvider } from "@sealkit/envelope";\n', resolveDir: HERE },
  bundle: true,
  platform: "node",
  format: "esm",
  minify: true,
  external: ["@aws-sdk/*"],
  outfile: bundleFile,
  logLevel: "silent",
});

function child(mode) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", mode], {
      cwd: HERE,
      env: { ...env, BENCH_AWS_RECORD: JSON.stringify(record), BENCH_AWS_BUNDLE: bundleFile, ...(mode === "sealkit-sdk" ? { SEALKIT_AWS_KMS_CLIENT: "sdk" } : {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (err += d));
    c.on("error", reject);
    c.on("close", (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${mode} exited ${code}: ${err.slice(0, 500)}`));
      resolve({ ...JSON.parse(out.trim().split("\n").pop()), wallMs });
    });
  });
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const r1 = (x) => Math.round(x * 10) / 10;

const results = [];
for (const latencyMs of LATENCIES) {
  server.setLatency(latencyMs);
  const samples = Object.fromEntries(MODES.map((m) => [m, []]));
  for (let i = 0; i < RUNS; i++) for (const m of MODES) samples[m].push(await child(m));
  server.resetCounters();
  await child("sealkit-lite");
  const liteCalls = { ...server.calls };
  for (const m of MODES) {
    const s = samples[m];
    results.push({
      latencyMs,
      mode: m,
      runs: s.length,
      importMs: r1(median(s.map((x) => x.importMs))),
      decryptMs: r1(median(s.map((x) => x.decryptMs))),
      doneMs: r1(median(s.map((x) => x.doneMs))),
      wallMs: r1(median(s.map((x) => x.wallMs))),
      minDoneMs: r1(Math.min(...s.map((x) => x.doneMs))),
      ...(m === "sealkit-lite" ? { kmsCalls: liteCalls } : {}),
    });
  }
}
await server.close();
rmSync(bundleDir, { recursive: true, force: true });

const bare = (lat) => results.find((r) => r.mode === "bare" && r.latencyMs === lat);
const lines = [
  `| latency | path | import (ms) | first Decrypt, incl. lazy client load (ms) | done since process start (ms) | over bare Node (ms) | over bare Node, best run (ms) | wall, spawn to exit (ms) |`,
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ...results.map(
    (r) =>
      `| ${r.latencyMs} ms | ${r.mode} | ${r.importMs} | ${r.decryptMs} | ${r.doneMs} | ${r1(r.doneMs - bare(r.latencyMs).doneMs)} | ${r1(r.minDoneMs - bare(r.latencyMs).minDoneMs)} | ${r.wallMs} |`,
  ),
];
const load = loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(`node ${process.version}, ${RUNS} fresh processes per cell, medians; load average at the end ${load}\n`);
console.log(lines.join("\n"));
mkdirSync(join(HERE, "results"), { recursive: true });
writeFileSync(join(HERE, "results", "aws-cold-start.json"), `${JSON.stringify({ node: process.version, runs: RUNS, loadavg: loadavg(), results }, null, 2)}\n`);
