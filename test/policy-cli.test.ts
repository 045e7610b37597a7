/**
 * `sealkit policy` as a subprocess on hand-made manifests: every provider's hook is found by
 * convention (`@sealkit/<id>` export `policy`, `local` built in), per output and store, and
 * bad manifests fail with a clear code. The AWS case against a real build is in
 * aws-kms-cli.test.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sealkit, tempDir } from "./support/cli.js";

const STORE_A = "AAAAAAAAAAAAAAAAAAAAAA";
const STORE_B = "BBBBBBBBBBBBBBBBBBBBBB";
const ARN_1 = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ARN_2 = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
const ctx = (store: string) => ({ "sealkit:store": store, "sealkit:generation": "1" });

function manifest() {
  return {
    sealkit: 1,
    generatedAt: "2026-12-03T16:00:00.000Z",
    outputs: {
      "api.mjs": {
        stores: [
          {
            storeId: STORE_A,
            generation: 1,
            storeFile: "a.json",
            keys: [
              { provider: "aws-kms", keyRef: ARN_1, context: ctx(STORE_A) },
              { provider: "aws-kms", keyRef: ARN_2, context: ctx(STORE_A) },
            ],
            secrets: ["db-password"],
          },
          {
            storeId: STORE_B,
            generation: 1,
            storeFile: "b.json",
            keys: [{ provider: "local", keyRef: "local:0a1b2c3d", context: ctx(STORE_B) }],
            secrets: ["dev-token"],
          },
        ],
      },
      "jobs/cron.mjs": {
        stores: [
          {
            storeId: STORE_A,
            generation: 1,
            storeFile: "a.json",
            keys: [{ provider: "aws-kms", keyRef: ARN_2, context: ctx(STORE_A) }],
            secrets: ["api-key"],
          },
        ],
      },
    },
  };
}

describe("sealkit policy (subprocess)", () => {
  const dir = tempDir("sealkit-policy-");
  const file = join(dir, "m.json");

  it("calls each provider's hook per output and store, with only that output's keys", () => {
    writeFileSync(file, JSON.stringify(manifest()));
    const r = sealkit(["policy", "--manifest", file, "--json"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const api = doc.outputs["api.mjs"];
    expect(api.map((e: { provider: string }) => e.provider)).toEqual(["aws-kms", "local"]);
    expect(api[0].runtime.Resource).toEqual([ARN_1, ARN_2]);
    expect(api[0].runtime.Sid).toBe("SealkitDecryptApiMjs");
    expect(api[1].runtime.permission).toBe("none");
    expect(api[1].secrets).toEqual(["dev-token"]);
    const cron = doc.outputs["jobs/cron.mjs"];
    expect(cron).toHaveLength(1);
    expect(cron[0].runtime.Resource).toBe(ARN_2);
    expect(cron[0].runtime.Condition.StringEquals["kms:EncryptionContext:sealkit:store"]).toBe(STORE_A);
    expect(doc.notes).toEqual([]);
  });

  it("prints a human summary, and --output narrows it to one function", () => {
    const r = sealkit(["policy", "--manifest", file, "--output", "jobs/cron.mjs"], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("jobs/cron.mjs");
    expect(r.stdout).toContain("kms:Decrypt on 1 key(s) in eu-west-1");
    expect(r.stdout).not.toContain("api.mjs");
    const unknown = sealkit(["policy", "--manifest", file, "--output", "nope.mjs"], { cwd: dir });
    expect(unknown.status).toBe(4);
    expect(unknown.stderr).toContain("it lists: api.mjs, jobs/cron.mjs");
  });

  it("rejects a malformed manifest (E_FORMAT) and an unknown provider (E_CONFIG)", () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ sealkit: 1, outputs: { "a.mjs": { stores: [{ storeId: STORE_A }] } } }));
    const r = sealkit(["policy", "--manifest", bad], { cwd: dir });
    expect(r.status).toBe(6);
    expect(r.stderr).toContain('outputs["a.mjs"].stores[0] lacks storeId or generation');
    const m = manifest();
    m.outputs["api.mjs"].stores[0]!.keys[0]!.provider = "no-such-kms";
    writeFileSync(bad, JSON.stringify(m));
    const u = sealkit(["policy", "--manifest", bad], { cwd: dir });
    expect(u.status).toBe(3);
    expect(u.stderr).toContain("install @sealkit/no-such-kms");
  });
});
