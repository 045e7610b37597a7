/**
 * The function code of each contender, as a user would write it, generated for N secrets.
 * Every module exports `handler()` (resolves with the N values, in name order) and `read()`
 * (one warm read of the first secret, the way that library serves it after start).
 *
 * - sealkit: `secret("name")` calls, turned into envelopes by @sealkit/plugin at build time
 *   (or, in `registerEntry`, the `register()` call the plugin would have generated).
 * - kms-parallel / kms-serial: the classic KMS-encrypted environment variables, one
 *   `Decrypt` per secret at init, plaintext kept in module memory afterwards.
 * - powertools: `getSecret(name)` from @aws-lambda-powertools/parameters per secret
 *   (Secrets Manager), with its default 5 s cache serving warm reads.
 * - esdk: @aws-crypto/client-node decrypting one message per secret with a KMS keyring,
 *   plaintext kept in module memory afterwards.
 * - bare: nothing (the floor of a cold start); floor-crypto / floor-env: the warm-read floors.
 */

export const CONTENDERS = ["sealkit", "kms-parallel", "kms-serial", "powertools", "esdk"];

export const secretName = (i) => `s${String(i).padStart(3, "0")}`;
export const envName = (i) => `KMS_SECRET_${String(i).padStart(3, "0")}`;
const names = (n) => Array.from({ length: n }, (_, i) => secretName(i));
const q = JSON.stringify;

export function sealkitEntry(n) {
  return `import { secret } from "@sealkit/runtime";
export function handler() {
  return Promise.all([${names(n)
    .map((x) => `secret(${q(x)})`)
    .join(", ")}]);
}
export function read() {
  return secret("s000");
}
`;
}

/** What the plugin generates, written by hand: used only while the plugin cannot build. */
export function registerEntry(n, keyRecord, envelopes, pins) {
  const env = Object.fromEntries(names(n).map((x) => [x, envelopes[x]]));
  return `import "@sealkit/aws-kms";
import { register, secret } from "@sealkit/runtime";
register(${q(keyRecord)}, ${q(env)}, { pins: ${q(pins)} });
export function handler() {
  return Promise.all(${q(names(n))}.map((name) => secret(name)));
}
export function read() {
  return secret("s000");
}
`;
}

export function kmsEntry(n, serial) {
  const list = Array.from({ length: n }, (_, i) => envName(i));
  return `import { DecryptCommand, KMSClient } from "@aws-sdk/client-kms";
const client = new KMSClient({});
const cache = new Map();
async function decryptEnv(name) {
  const out = await client.send(
    new DecryptCommand({
      CiphertextBlob: Buffer.from(process.env[name], "base64"),
      EncryptionContext: { LambdaFunctionName: "sealkit-bench" },
    }),
  );
  const value = Buffer.from(out.Plaintext).toString("utf8");
  cache.set(name, value);
  return value;
}
const NAMES = ${q(list)};
export async function handler() {
  ${
    serial
      ? `const out = [];
  for (const name of NAMES) out.push(await decryptEnv(name));
  return out;`
      : "return Promise.all(NAMES.map(decryptEnv));"
  }
}
export function read() {
  return cache.get(${q(list[0])});
}
`;
}

export function powertoolsEntry(n) {
  return `import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
const NAMES = ${q(names(n))};
export function handler() {
  return Promise.all(NAMES.map((name) => getSecret(name)));
}
export function read() {
  return getSecret("s000");
}
`;
}

/**
 * `fleet`: the fleet worker shares the Encryption SDK's code between simulated cold starts,
 * so its module-level KMS client cache would be shared too; the fleet variant gives each
 * instance its own cache, built the way the default one is (`cacheClients(getKmsClient)`).
 */
export function esdkEntry(n, keyArn, messages, { fleet = false } = {}) {
  const msgs = Object.fromEntries(names(n).map((x) => [x, messages[x]]));
  return `import { CommitmentPolicy, KmsKeyringNode, buildClient${fleet ? ", cacheClients, getKmsClient" : ""} } from "@aws-crypto/client-node";
const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const keyring = new KmsKeyringNode({ keyIds: [${q(keyArn)}]${fleet ? ", clientProvider: cacheClients(getKmsClient)" : ""} });
const MESSAGES = ${q(msgs)};
const cache = new Map();
export function handler() {
  return Promise.all(
    Object.keys(MESSAGES).map(async (name) => {
      const { plaintext } = await decrypt(keyring, Buffer.from(MESSAGES[name], "base64"));
      const value = plaintext.toString("utf8");
      cache.set(name, value);
      return value;
    }),
  );
}
export function read() {
  return cache.get("s000");
}
`;
}

export function bareEntry() {
  return `export async function handler() {
  return [];
}
export function read() {
  return "";
}
`;
}

/**
 * The warm-read floor: one AES-256-GCM decrypt with node:crypto of a 256-byte value under
 * an AAD as long as Sealkit's, nothing else (no lookup, no UTF-8 decode).
 */
export function floorCryptoEntry() {
  return `import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
const key = randomBytes(32);
const nonce = randomBytes(12);
const aad = Buffer.from(JSON.stringify(["sealkit/v1", "AAAAAAAAAAAAAAAAAAAAAA", 1, "s000"]));
const c = createCipheriv("aes-256-gcm", key, nonce);
c.setAAD(aad);
const ct = Buffer.concat([c.update(Buffer.from(randomBytes(192).toString("base64url"))), c.final()]);
const tag = c.getAuthTag();
export async function handler() {
  return [];
}
export function read() {
  const d = createDecipheriv("aes-256-gcm", key, nonce);
  d.setAAD(aad);
  d.setAuthTag(tag);
  const head = d.update(ct);
  d.final();
  return head;
}
`;
}

/**
 * Not a floor but an attribution aid: the same decrypt, plus what any `await secret()` must
 * also do (an async call and a UTF-8 decode into a string).
 */
export function floorCryptoAsyncEntry() {
  return floorCryptoEntry().replace(
    "export function read() {",
    "export async function read() {",
  ).replace("  return head;\n}", '  return head.toString("utf8");\n}');
}

export function floorEnvEntry() {
  return `export async function handler() {
  return [];
}
export function read() {
  return process.env.SEALKIT_BENCH_FLOOR;
}
`;
}
