/**
 * examples/gcp-cloud-run end to end: seal two secrets under a (local) Cloud KMS key, build
 * the example with the real esbuild plugin, run the built server as its own process with
 * standard Google credentials (GOOGLE_APPLICATION_CREDENTIALS), and call it over HTTP.
 */
import { type ChildProcess, spawn, } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// Relative imports (the same src/ modules vitest maps @sealkit/* to) keep the root typecheck clean.
import { registerProvider } from "../packages/envelope/src/index.js";
import { createGcpKmsProvider } from "../packages/gcp-kms/src/index.js";
import { realClient } from "../packages/gcp-kms/test/helpers.js";
import { initStore, setSecrets } from "../packages/store/src/index.js";
import { repoRoot, tempDir } from "./support/cli.js";
import { type GcpKmsServer, startGcpKmsServer } from "./support/gcp-kms-server.js";
import { buildExample } from "./support/examples.js";

const example = join(repoRoot, "examples/gcp-cloud-run");
const outDir = join(example, "dist", `e2e-${process.pid}`);
const VALUES = { "db-password": "canary-gcp-run-Hq4x-password", "api-key": "canary-gcp-run-Wm8z-apikey" };
const SA = "checkout-fn@sealkit-test.iam.gserviceaccount.com";
const KEY = "projects/sealkit-test/locations/europe-west1/keyRings/run/cryptoKeys/app";
const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 16);

let server: GcpKmsServer;
let dir: string;
let keyFile: string;
const children: ChildProcess[] = [];

/** Starts the built function; resolves with its base URL once it listens. */
function startFunction(): Promise<string> {
  const child = spawn(process.execPath, [join(outDir, "server.mjs")], {
    cwd: example,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      PORT: "0",
      CLOUDSDK_CONFIG: join(dir, "no-gcloud"),
      METADATA_SERVER_DETECTION: "none",
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
      SEALKIT_GCP_KMS_ENDPOINT: server.endpoint,
      SEALKIT_BACKOFF: "5ms",
    },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c) => {
      out += c;
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.stderr?.on("data", (c) => (out += c));
    child.on("exit", (code) => reject(new Error(`function exited ${code}: ${out}`)));
  });
}

beforeAll(async () => {
  server = await startGcpKmsServer();
  server.admin.createKey(KEY);
  dir = tempDir("sealkit-gcp-run-");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  keyFile = join(dir, "sa.json");
  const sa = { type: "service_account", project_id: "sealkit-test", private_key_id: "k1", client_email: SA, client_id: "1" };
  writeFileSync(keyFile, JSON.stringify({ ...sa, private_key: privateKey.export({ type: "pkcs8", format: "pem" }) }), { mode: 0o600 });

  // Seal (the operator's step), in process, through the real SDK client.
  registerProvider(createGcpKmsProvider({ client: realClient(server) }));
  const store = join(dir, "sealkit.secrets.json");
  await initStore({ path: store, masterKeys: [{ provider: "gcp-kms", keyRef: KEY }] });
  await setSecrets(store, new Map(Object.entries(VALUES).map(([k, v]) => [k, new TextEncoder().encode(v)])));

  // Build (CI's step): the example's own build script, with the real plugin.
  buildExample(example, store, outDir);
}, 180_000);

afterAll(async () => {
  for (const c of children) c.kill();
  await server?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe("examples/gcp-cloud-run", () => {
  it("the bundle holds envelopes only, and the manifest names the key", () => {
    const bundle = readFileSync(join(outDir, "server.mjs"), "utf8");
    for (const v of Object.values(VALUES)) expect(bundle).not.toContain(v);
    expect(bundle).toMatch(/sealkit-key:1:/);
    const manifest = JSON.parse(readFileSync(join(outDir, "sealkit-manifest.json"), "utf8"));
    const stores = Object.values(manifest.outputs as Record<string, { stores: { keys: { keyRef: string }[]; secrets: string[] }[] }>)[0]?.stores;
    expect(stores?.[0]?.secrets).toEqual(["api-key", "db-password"]);
    expect(stores?.[0]?.keys[0]?.keyRef).toBe(`${KEY}/cryptoKeyVersions/1`);
    expect(existsSync(join(outDir, "server.mjs.map"))).toBe(true);
  });

  it("serves both secrets after one Cloud KMS Decrypt per cold start, shared by concurrent requests", async () => {
    const url = await startFunction();
    const before = server.calls.length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(url).then((r) => r.json())));
    for (const a of answers) {
      expect(a).toEqual({ ok: true, fingerprints: { "db-password": fp(VALUES["db-password"]), "api-key": fp(VALUES["api-key"]) } });
    }
    const calls = server.calls.slice(before);
    expect(calls.map((c) => [c.method, c.status, c.principal])).toEqual([["decrypt", 200, SA]]);
  });

  it("a throttled cold start is retried by the runtime and still serves", async () => {
    server.admin.throttleNext(2);
    const url = await startFunction();
    const before = server.calls.length;
    const a = await fetch(url).then((r) => r.json());
    expect(a.ok).toBe(true);
    expect(server.calls.slice(before).map((c) => c.error ?? c.status)).toEqual(["RESOURCE_EXHAUSTED", "RESOURCE_EXHAUSTED", 200]);
  });

  it("a function whose service account is denied answers 503 E_ACCESS_DENIED, without retrying", async () => {
    server.admin.deny(KEY, SA);
    try {
      const url = await startFunction();
      const before = server.calls.length;
      const r = await fetch(url);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ ok: false, code: "E_ACCESS_DENIED" });
      expect(server.calls.slice(before).map((c) => c.error)).toEqual(["PERMISSION_DENIED"]);
    } finally {
      server.admin.allow(KEY);
    }
  });
});
