/**
 * Setup shared by every benchmark: one KMS key on the local server, MAX_N random 256-byte
 * values sealed four ways (a Sealkit store, KMS-encrypted environment variables, Secrets
 * Manager secrets, Encryption SDK messages), and each contender's function built into a
 * minified ESM bundle with esbuild. Values stay in this process's memory; children get
 * only ciphertexts and the SHA-256 digest of the values they must produce.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { readFile } from "node:fs/promises";
import * as esbuild from "esbuild";
import {
  bareEntry,
  envName,
  esdkEntry,
  floorCryptoAsyncEntry,
  floorCryptoEntry,
  floorEnvEntry,
  kmsEntry,
  powertoolsEntry,
  registerEntry,
  sealkitEntry,
  secretName,
} from "./contenders.mjs";

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = dirname(BENCH_DIR);
const require = createRequire(join(BENCH_DIR, "package.json"));

export async function makeWorkDir() {
  return mkdtemp(join(tmpdir(), "sealkit-bench-"));
}

export async function removeWorkDir(dir) {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export function digestOf(values) {
  return createHash("sha256").update(values.join("\n")).digest("hex");
}

/** Seals MAX_N values four ways against the running server. */
export async function prepare(server, dir, maxN) {
  const key = server.createKey({ description: "sealkit bench" });
  const values = Array.from({ length: maxN }, () => randomBytes(192).toString("base64url"));
  const byName = new Map(values.map((v, i) => [secretName(i), v]));

  // 1. Sealkit: a store file, through the store package and the AWS KMS provider.
  await import("@sealkit/aws-kms");
  const store = await import("@sealkit/store");
  const envelope = await import("@sealkit/envelope");
  const storePath = join(dir, "sealkit.secrets.json");
  await store.initStore({ path: storePath, masterKeys: [{ provider: "aws-kms", keyRef: key.arn }] });
  await store.setSecrets(storePath, new Map([...byName].map(([n, v]) => [n, Buffer.from(v)])));
  const storeFile = await store.readStoreFile(storePath);
  const keyRecord = envelope.encodeKeyRecord(envelope.keyRecordOf(storeFile));
  const envelopes = Object.fromEntries(
    [...byName.keys()].map((n) => [n, envelope.encodeEnvelope(envelope.storedEnvelope(storeFile, n))]),
  );
  const pins = storeFile.keys.map((k) => `${k.provider}:${k.keyRef}`);

  // 2. KMS-encrypted environment variables (what the Lambda console's helpers produce).
  const { KMSClient, EncryptCommand } = await import("@aws-sdk/client-kms");
  const kms = new KMSClient({});
  const kmsEnv = {};
  for (let i = 0; i < maxN; i++) {
    const out = await kms.send(
      new EncryptCommand({
        KeyId: key.arn,
        Plaintext: Buffer.from(values[i]),
        EncryptionContext: { LambdaFunctionName: "sealkit-bench" },
      }),
    );
    kmsEnv[envName(i)] = Buffer.from(out.CiphertextBlob).toString("base64");
  }
  kms.destroy();

  // 3. Secrets Manager secrets on the same server.
  for (const [n, v] of byName) server.setSecret(n, v);

  // 4. Encryption SDK messages under a KMS keyring.
  const esdk = await import("@aws-crypto/client-node");
  const { encrypt } = esdk.buildClient(esdk.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new esdk.KmsKeyringNode({ generatorKeyId: key.arn });
  const messages = {};
  for (const [n, v] of byName) {
    const { result } = await encrypt(keyring, Buffer.from(v), { encryptionContext: { purpose: "sealkit-bench" } });
    messages[n] = Buffer.from(result).toString("base64");
  }
  server.resetCounters();
  return {
    keyArn: key.arn,
    keyId: key.keyId,
    storePath,
    keyRecord,
    envelopes,
    pins,
    kmsEnv,
    messages,
    digest: (n) => digestOf(values.slice(0, n)),
    // Not one of the values: the process.env floor needs a string of the same length, no secret.
    floorValue: randomBytes(192).toString("base64url"),
  };
}

const BANNER = 'import { createRequire as __sealkitBenchRequire } from "node:module"; const require = __sealkitBenchRequire(import.meta.url);';
const SDK_CLIENTS = /^@aws-sdk\/client-(kms|secrets-manager)$|^@aws-crypto\/client-node$/;

/**
 * Fleet bundles keep the two SDK clients (and the Encryption SDK) outside: their code is
 * shared by every simulated cold start of a worker, their state is not (see child/fleet.mjs).
 */
const externalClients = {
  name: "sealkit-bench-external-sdk",
  setup(build) {
    build.onResolve({ filter: SDK_CLIENTS }, (a) => ({ path: require.resolve(a.path), external: true }));
  },
};

/** Distinct npm packages (and workspace packages) whose files ended up in a bundle. */
export function packagesOf(metafile) {
  const pkgs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const p = input.replace(/\\/g, "/");
    const nm = p.lastIndexOf("node_modules/");
    if (nm >= 0) {
      const parts = p.slice(nm + "node_modules/".length).split("/");
      pkgs.add(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
    } else {
      const ws = /(?:^|\/)packages\/([^/]+)\//.exec(p);
      if (ws) pkgs.add(`@sealkit/${ws[1]}`);
    }
  }
  return [...pkgs].sort();
}

let pluginState; // { plugin } | { error }

async function sealkitPlugin(fx, _dir) {
  if (!pluginState) {
    try {
      const mod = await import("@sealkit/plugin/esbuild");
      pluginState = { factory: mod.default };
    } catch (e) {
      pluginState = { error: `@sealkit/plugin/esbuild did not load (${e?.code ?? e?.name})` };
    }
  }
  if (pluginState.error) return undefined;
  // root: where a project would resolve its provider packages (the plugin picks their ./runtime entry there)
  return pluginState.factory({ store: fx.storePath, manifest: false, dts: false, root: BENCH_DIR });
}

/** Builds one contender's function bundle. Returns its path, size and packages. */
export async function buildFunction(fx, dir, contender, n, { fleet = false } = {}) {
  const name = `${contender}-${n}${fleet ? "-fleet" : ""}`;
  const entry = join(dir, `${name}.entry.mjs`);
  const outfile = join(dir, `${name}.mjs`);
  // sealkit-lean: the same build with @aws-sdk/client-kms left out. At run time the provider
  // reaches the SDK only through a dynamic import on its wrap / non-light path, so the lean
  // bundle runs alone when credentials come from the environment: it shows what keeping the
  // SDK out of function bundles would save.
  const plugins = fleet || contender === "sealkit-lean" ? [externalClients] : [];
  let source;
  let via;
  if (contender === "sealkit" || contender === "sealkit-lean") {
    const plugin = await sealkitPlugin(fx, dir);
    if (plugin) {
      source = sealkitEntry(n);
      plugins.push(plugin);
      via = "plugin";
    } else {
      source = registerEntry(n, fx.keyRecord, fx.envelopes, fx.pins);
      via = `register() by hand: ${pluginState.error}`;
    }
  } else if (contender === "kms-parallel" || contender === "kms-serial") source = kmsEntry(n, contender === "kms-serial");
  else if (contender === "powertools") source = powertoolsEntry(n);
  else if (contender === "esdk") source = esdkEntry(n, fx.keyArn, fx.messages, { fleet });
  else if (contender === "bare") source = bareEntry();
  else if (contender === "floor-crypto") source = floorCryptoEntry();
  else if (contender === "floor-crypto-async") source = floorCryptoAsyncEntry();
  else if (contender === "floor-env") source = floorEnvEntry();
  else throw new Error(`unknown contender ${contender}`);
  await mkdir(dir, { recursive: true });
  await writeFile(entry, source);
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      minify: true,
      mainFields: ["module", "main"],
      metafile: true,
      legalComments: "none",
      banner: { js: BANNER },
      nodePaths: [join(BENCH_DIR, "node_modules")],
      plugins,
      logLevel: "silent",
    });
  } catch (e) {
    if (!contender.startsWith("sealkit") || via !== "plugin") throw e;
    // The plugin is another engineer's work in progress: fall back, and say so.
    const why = e?.errors?.[0]?.text ?? String(e?.message ?? e).split("\n")[0];
    pluginState = { error: `@sealkit/plugin build failed: ${String(why).slice(0, 200)}` };
    return buildFunction(fx, dir, contender, n, { fleet });
  }
  const code = await readFile(outfile);
  return {
    file: outfile,
    via,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    packages: packagesOf(result.metafile),
  };
}

/** The environment a contender's child process needs besides the AWS settings. */
export function contenderEnv(fx, contender, n) {
  if (contender === "kms-parallel" || contender === "kms-serial") {
    return Object.fromEntries(Array.from({ length: n }, (_, i) => [envName(i), fx.kmsEnv[envName(i)]]));
  }
  if (contender === "floor-env") return { SEALKIT_BENCH_FLOOR: fx.floorValue };
  return {};
}

export const rel = (p) => relative(ROOT, p);
