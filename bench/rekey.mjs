/**
 * Rekey: a 1,000-secret store after its master key rotates, re-wrapped with `sealkit rekey`
 * (the CLI, a fresh process) and moved to another master key with `sealkit rekey --to-key`;
 * key-service calls counted on the server, at 15 ms latency. For comparison, the same
 * rotation for 1,000 KMS-encrypted values (the per-secret peers): one ReEncrypt each,
 * 10 in flight.
 *
 *   node bench/rekey.mjs
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { QUICK, SMOKE, runStandalone, runNode } from "./lib/context.mjs";
import { ROOT } from "./lib/fixtures.mjs";
import { printTable } from "./lib/report.mjs";

const CLI = join(ROOT, "packages", "cli", "dist", "bin.js");

export const config = () => ({ secrets: SMOKE ? 10 : QUICK ? 200 : 1000, latencyMs: 15 });

async function cli(ctx, args) {
  const t0 = performance.now();
  ctx.resetCounters();
  const r = await runNode([CLI, ...args, "--json"], { env: ctx.env("sealkit", 0), timeoutMs: 120_000 });
  return { ms: performance.now() - t0, ok: r.code === 0, calls: ctx.calls(), stderr: r.code === 0 ? "" : r.stderr.slice(0, 300) };
}

export async function run(ctx, { secrets, latencyMs } = config()) {
  const store = await import("@sealkit/store");
  const { randomBytes } = await import("node:crypto");
  const path = join(ctx.dir, "rekey", "sealkit.secrets.json");
  const key = ctx.fx.keyArn;
  const other = ctx.server.createKey({ description: "sealkit bench: rekey target" }).arn;
  const { mkdir } = await import("node:fs/promises");
  await mkdir(join(ctx.dir, "rekey"), { recursive: true });
  await store.initStore({ path, masterKeys: [{ provider: "aws-kms", keyRef: key }] });
  const values = new Map(Array.from({ length: secrets }, (_, i) => [`k${String(i).padStart(4, "0")}`, randomBytes(48)]));
  await store.setSecrets(path, values);
  for (const v of values.values()) v.fill(0);

  // The per-secret way: 1,000 KMS-encrypted values, one ReEncrypt each.
  const { KMSClient, EncryptCommand, ReEncryptCommand } = await import("@aws-sdk/client-kms");
  const kms = new KMSClient({});
  const blobs = [];
  for (let i = 0; i < secrets; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, secrets - i) }, () =>
        kms.send(new EncryptCommand({ KeyId: key, Plaintext: randomBytes(48), EncryptionContext: { LambdaFunctionName: "sealkit-bench" } })),
      ),
    );
    blobs.push(...batch.map((o) => o.CiphertextBlob));
  }

  ctx.server.rotateKey(key);
  ctx.configure({ latencyMs });
  const rows = [];
  try {
    if (existsSync(CLI)) {
      const a = await cli(ctx, ["rekey", "--store", path]);
      rows.push({ what: `sealkit rekey (${secrets} secrets, after key rotation)`, ...a });
      const b = await cli(ctx, ["rekey", "--store", path, "--to-key", other]);
      rows.push({ what: `sealkit rekey --to-key (${secrets} secrets, to another key)`, ...b });
    } else {
      const t0 = performance.now();
      ctx.resetCounters();
      await store.rekeyStore(path, {});
      rows.push({ what: `rekeyStore() (${secrets} secrets; CLI not built)`, ms: performance.now() - t0, ok: true, calls: ctx.calls() });
    }
    ctx.resetCounters();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < blobs.length) {
          const blob = blobs[next++];
          await kms.send(
            new ReEncryptCommand({
              CiphertextBlob: blob,
              SourceEncryptionContext: { LambdaFunctionName: "sealkit-bench" },
              DestinationKeyId: other,
              DestinationEncryptionContext: { LambdaFunctionName: "sealkit-bench" },
            }),
          );
        }
      }),
    );
    rows.push({ what: `per-secret peers: ReEncrypt each of ${secrets} values (10 in flight)`, ms: performance.now() - t0, ok: true, calls: ctx.calls() });
  } finally {
    ctx.configure({});
    kms.destroy();
  }
  return {
    secrets,
    latencyMs,
    rows: rows.map((r) => ({ what: r.what, ok: r.ok, ms: Math.round(r.ms), calls: r.calls.total, byOp: r.calls.byOp, error: r.stderr || undefined })),
  };
}

export function table(res) {
  return printTable(
    ["operation", "ok", "time ms", "key-service calls", "by operation"],
    res.rows.map((r) => [
      r.what,
      r.ok ? "yes" : `no ${r.error ?? ""}`,
      r.ms,
      r.calls,
      Object.entries(r.byOp)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ]),
  );
}

await runStandalone(import.meta.url, run, table, { maxN: 1 });
