import { type PolicyInput, SealkitError } from "@sealkit/envelope";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GcpKmsServer } from "../../../test/support/gcp-kms-server.js";
import { OPERATOR_ROLE, RUNTIME_ROLE, initKeys, parseKeyName, policy } from "../src/index.js";
import { newKey, realClient, startGcpKmsServer } from "./helpers.js";

let server: GcpKmsServer;
beforeAll(async () => {
  server = await startGcpKmsServer();
});
afterAll(() => server.close());

const init = (keys: string[]) => initKeys({ keys, rawArgs: [] }, { client: realClient(server) });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: SealkitError) => e);

describe("initKeys (sealkit init --provider gcp-kms)", () => {
  it("accepts an HSM ENCRYPT_DECRYPT key and returns the key (not a version) as master key", async () => {
    const key = newKey(server);
    const r = await init([key]);
    expect(r.masterKeys).toEqual([{ provider: "gcp-kms", keyRef: key }]);
    expect(r.notes.join("\n")).toContain("roles/cloudkms.cryptoKeyDecrypter");
    expect(r.notes.join("\n")).not.toContain("recommends HSM");
    expect(server.calls.at(-1)).toMatchObject({ method: "getCryptoKey", name: key, status: 200 });
  });

  it("notes a SOFTWARE key and recommends HSM; a version name is reduced to its key", async () => {
    const key = newKey(server, { protectionLevel: "SOFTWARE" });
    const r = await init([`${key}/cryptoKeyVersions/1`]);
    expect(r.masterKeys).toEqual([{ provider: "gcp-kms", keyRef: key }]);
    expect(r.notes.join("\n")).toMatch(/protection level SOFTWARE.*recommends HSM/);
    expect(r.notes.join("\n")).toContain("not version 1");
  });

  it("refuses a key of another purpose (E_CONFIG), a disabled primary (E_KEY_DISABLED), a missing key (E_NOT_FOUND)", async () => {
    const signing = newKey(server, { purpose: "ASYMMETRIC_SIGN" });
    const e1 = await failure(init([signing]));
    expect([e1?.code, e1?.message]).toEqual(["E_CONFIG", expect.stringContaining("ASYMMETRIC_SIGN")]);
    const off = newKey(server);
    server.admin.disableVersion(server.admin.primaryOf(off));
    expect((await failure(init([off])))?.code).toBe("E_KEY_DISABLED");
    const e3 = await failure(init(["projects/sealkit-test/locations/europe-west1/keyRings/ring/cryptoKeys/absent"]));
    expect(e3?.code).toBe("E_NOT_FOUND");
  });

  it("clear errors for no --key and a malformed name, before any request", async () => {
    const before = server.calls.length;
    expect((await failure(init([])))?.code).toBe("E_INPUT");
    const bad = await failure(init(["projects/p/keyRings/r/cryptoKeys/k"]));
    expect(bad?.code).toBe("E_CONFIG");
    expect(bad?.message).toContain("projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY");
    expect(server.calls.length).toBe(before);
  });

  it("a caller without cloudkms.cryptoKeys.get gets a note, not a failure (the store's test wrap decides)", async () => {
    const key = newKey(server);
    server.admin.deny(key);
    const r = await init([key]);
    expect(r.masterKeys).toEqual([{ provider: "gcp-kms", keyRef: key }]);
    expect(r.notes.join("\n")).toContain("cloudkms.cryptoKeys.get");
  });
});

describe("policy (sealkit policy)", () => {
  const key = "projects/acme-prod/locations/europe-west1/keyRings/sealkit/cryptoKeys/app";
  const input: PolicyInput = {
    output: "handler.mjs",
    storeId: "st_abc",
    generation: 2,
    keys: [
      { provider: "gcp-kms", keyRef: `${key}/cryptoKeyVersions/3`, context: { "sealkit:store": "st_abc", "sealkit:generation": "2" } },
      { provider: "aws-kms", keyRef: "arn:aws:kms:us-east-1:111122223333:key/x", context: {} },
    ],
    secrets: ["db-password"],
  };

  it("binds roles/cloudkms.cryptoKeyDecrypter on exactly that key for the function's service account", () => {
    const out = policy(input, { serviceAccount: "fn@acme-prod.iam.gserviceaccount.com" });
    expect(out.provider).toBe("gcp-kms");
    expect(out.runtime).toEqual({
      bindings: [{ resource: key, role: RUNTIME_ROLE, members: ["serviceAccount:fn@acme-prod.iam.gserviceaccount.com"] }],
      gcloud: [
        "gcloud kms keys add-iam-policy-binding app --keyring=sealkit --location=europe-west1 --project=acme-prod --member=serviceAccount:fn@acme-prod.iam.gserviceaccount.com --role=roles/cloudkms.cryptoKeyDecrypter",
      ],
    });
    expect((out.operator as { bindings: { role: string }[] }).bindings.map((b) => b.role)).toEqual([OPERATOR_ROLE]);
    expect(out.summary.join("\n")).toContain("handler.mjs");
    expect(JSON.stringify(out)).not.toContain("arn:aws");
  });

  it("leaves the service account as $FUNCTION_SA when it is not known, and says so", () => {
    const out = policy(input);
    expect((out.runtime as { gcloud: string[] }).gcloud[0]).toContain('--member="serviceAccount:$FUNCTION_SA"');
    expect(out.summary.join("\n")).toContain("Set FUNCTION_SA");
  });

  it("dedupes versions of one key and rejects a malformed key name", () => {
    const two = policy({ ...input, keys: [input.keys[0], { ...input.keys[0], keyRef: key }] as PolicyInput["keys"] });
    expect((two.runtime as { bindings: unknown[] }).bindings).toHaveLength(1);
    expect(() => policy({ ...input, keys: [{ provider: "gcp-kms", keyRef: "nope", context: {} }] })).toThrow(SealkitError);
    expect(parseKeyName(`${key}/cryptoKeyVersions/3`)).toMatchObject({ project: "acme-prod", key: "app", version: "3", cryptoKey: key });
  });
});
