import { SealkitError, getProvider, registerProvider, unwrapFirst } from "@sealkit/envelope";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KmsServer } from "../../../test/support/aws-kms-server.js";
import { createAwsKmsProvider } from "../src/index.js";
import { initKeys } from "../src/init.js";
import { clientConfig, ctx, dataKey, kmsServer } from "./helpers.js";

let server: KmsServer;
beforeAll(async () => {
  server = await kmsServer();
  registerProvider(createAwsKmsProvider({ clientConfig: clientConfig(server), maxAttempts: 1 }));
});
afterAll(() => server.close());
afterEach(() => {
  server.setRegionDown("us-east-1", false);
  server.setRegionDown("eu-west-1", false);
});

describe("two regions", () => {
  it("fails over to the second master key when the first region is down", async () => {
    const east = server.createKey({ region: "us-east-1" });
    const west = server.createKey({ region: "eu-west-1" });
    const p = await getProvider("aws-kms");
    const dk = dataKey();
    const records = [
      await p.wrapKey(dk, { keyRef: east.arn, context: ctx() }),
      await p.wrapKey(dk, { keyRef: west.arn, context: ctx() }),
    ];
    server.resetCounters();
    server.setRegionDown("us-east-1", true);
    const opened = await unwrapFirst(records);
    expect(opened.index).toBe(1);
    expect(opened.dataKey).toEqual(dk);
    expect(server.requests.map((r) => [r.op, r.region])).toEqual([
      ["Decrypt", "us-east-1"],
      ["Decrypt", "eu-west-1"],
    ]);
    server.setRegionDown("eu-west-1", "http503");
    const err = await unwrapFirst(records).catch((e) => e);
    expect(err).toBeInstanceOf(SealkitError);
    expect(err.code).toBe("E_UNAVAILABLE");
    expect(err.details.attempts).toEqual([
      { keyRef: east.arn, code: "E_UNAVAILABLE" },
      { keyRef: west.arn, code: "E_UNAVAILABLE" },
    ]);
  });

  it("opens through a multi-Region key replica in the other region", async () => {
    const primary = server.createKey({ region: "us-east-1", multiRegion: true });
    const replica = server.replicateKey(primary.keyId, "eu-west-1");
    expect(replica.arn).toMatch(/:eu-west-1:.*key\/mrk-/);
    const p = await getProvider("aws-kms");
    const dk = dataKey();
    const rec = await p.wrapKey(dk, { keyRef: primary.arn, context: ctx() });
    // The same blob opens in the replica's region: multi-Region keys share key material.
    server.setRegionDown("us-east-1", true);
    expect(await p.unwrapKey({ ...rec, keyRef: replica.arn })).toEqual(dk);
  });
});

describe("initKeys (sealkit init --provider aws-kms)", () => {
  const opts = () => ({ clientConfig: clientConfig(server) });

  it("pins key ARNs, resolving alias ARNs and bare aliases with DescribeKey", async () => {
    const east = server.createKey({ region: "us-east-1" });
    const west = server.createKey({ region: "eu-west-1" });
    const aliasArn = server.createAlias("alias/payments", east.keyId);
    server.createAlias("alias/payments-dr", west.keyId);
    const r = await initKeys({ keys: [aliasArn, "alias/payments-dr"], rawArgs: ["--region", "eu-west-1"] }, opts()).catch(
      (e) => e,
    );
    // --region names the region of bare aliases; the alias ARN in us-east-1 contradicts it.
    expect(r.code).toBe("E_CONFIG");
    expect(r.message).toMatch(/region mismatch/);
    const saved = { ...process.env };
    try {
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
      const noRegion = await initKeys({ keys: ["alias/payments-dr"], rawArgs: [] }, opts()).catch((e) => e);
      expect(noRegion.code).toBe("E_CONFIG");
      expect(noRegion.message).toContain("names no region");
    } finally {
      process.env = saved;
    }
    const bare = await initKeys({ keys: ["alias/payments-dr"], rawArgs: ["--region=eu-west-1"] }, opts());
    expect(bare.masterKeys).toEqual([{ provider: "aws-kms", keyRef: west.arn }]);
    const good = await initKeys({ keys: [aliasArn, west.arn], rawArgs: [] }, opts());
    expect(good.masterKeys).toEqual([
      { provider: "aws-kms", keyRef: east.arn },
      { provider: "aws-kms", keyRef: west.arn },
    ]);
    expect(good.notes.join("\n")).toContain(`${aliasArn} resolved to ${east.arn}`);
  });

  it("says what is wrong with a malformed ARN", async () => {
    for (const bad of ["arn:aws:kms:us-east-1:12345:key/abc", "arn:aws:kms:nowhere:111122223333:key/x", "kms-key"]) {
      const e = await initKeys({ keys: [bad], rawArgs: [] }, opts()).catch((x) => x);
      expect(e.code).toBe("E_CONFIG");
      expect(e.message).toContain("malformed AWS KMS key reference");
      expect(e.message).toContain("arn:aws:kms:<region>:<account>:key/<key-id>");
    }
  });

  it("reports an alias that does not exist as E_NOT_FOUND naming it", async () => {
    const e = await initKeys({ keys: ["arn:aws:kms:us-east-1:111122223333:alias/nope"], rawArgs: [] }, opts()).catch((x) => x);
    expect(e.code).toBe("E_NOT_FOUND");
    expect(e.message).toContain("no KMS alias arn:aws:kms:us-east-1:111122223333:alias/nope in us-east-1");
  });

  it("refuses a disabled key at init", async () => {
    const k = server.createKey();
    server.disableKey(k.keyId);
    const e = await initKeys({ keys: [k.arn], rawArgs: [] }, opts()).catch((x) => x);
    expect(e.code).toBe("E_KEY_DISABLED");
  });

  it("reports a region mismatch when the endpoint answers for another region", async () => {
    const k = server.createKey({ region: "us-east-1" });
    // A client whose endpoint and signing region are fixed to eu-west-1, as a stray
    // AWS_ENDPOINT_URL_KMS or a wrong injected client would make it.
    const { KMSClient } = await import("@aws-sdk/client-kms");
    const wrong = new KMSClient({ region: "eu-west-1", ...clientConfig(server) });
    const west = server.createKey({ region: "eu-west-1" });
    const alias = server.createAlias("alias/shared-name", west.keyId);
    expect(alias).toContain("eu-west-1");
    const e = await initKeys({ keys: ["alias/shared-name"], rawArgs: ["--region", "us-east-1"] }, { client: wrong }).catch((x) => x);
    expect(e.code).toBe("E_CONFIG");
    expect(e.message).toMatch(/region mismatch: asked us-east-1 .* answered with arn:aws:kms:eu-west-1/);
    expect(k.region).toBe("us-east-1");
  });

  it("says which variables and profile it looked for when there are no credentials", async () => {
    const k = server.createKey();
    const saved = { ...process.env };
    try {
      for (const v of Object.keys(process.env)) if (v.startsWith("AWS_")) delete process.env[v];
      process.env.AWS_EC2_METADATA_DISABLED = "true";
      process.env.AWS_CONFIG_FILE = "/nonexistent/sealkit-test/config";
      process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/sealkit-test/credentials";
      process.env.AWS_PROFILE = "sealkit-test";
      const e = await initKeys({ keys: [k.arn], rawArgs: [] }, { clientConfig: { endpoint: server.url } }).catch((x) => x);
      expect(e.code).toBe("E_CREDENTIALS");
      expect(e.message).toContain("AWS_ACCESS_KEY_ID");
      expect(e.message).toContain('profile "sealkit-test"');
      expect(e.message).toContain("/nonexistent/sealkit-test/credentials");
    } finally {
      process.env = saved;
    }
  });
});
