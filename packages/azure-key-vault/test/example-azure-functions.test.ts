/**
 * examples/azure-functions end to end: seal two secrets under an RSA-HSM key in the local
 * Key Vault, build the example with its own build script and the real esbuild plugin, run
 * the built function host as its own process with the credential Azure Functions really
 * uses (the App Service managed identity: IDENTITY_ENDPOINT + IDENTITY_HEADER) and call it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerProvider } from "@sealkit/envelope";
import { initStore, setSecrets } from "@sealkit/store";
import { type KeyVaultServer, startKeyVaultServer } from "./support/azure-key-vault-server.js";
import { providerFor } from "./support/fixtures.js";
import { cliBin, tempDir } from "../../../test/support/cli.js";
import { buildExample } from "../../../test/support/examples.js";

const example = resolve(import.meta.dirname, "../../../examples/azure-functions");
const outDir = join(example, "dist", `e2e-${process.pid}`);
const VALUES = { "db-password": "canary-azfn-Tq7v-password", "api-key": "canary-azfn-Lp2k-apikey" };
const fp = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 16);

let server: KeyVaultServer;
let dir: string;
let keyRef: string;
const children: ChildProcess[] = [];

function startFunction(extraEnv: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [join(outDir, "server.mjs")], {
    cwd: example,
    env: { PATH: process.env.PATH, HOME: dir, PORT: "0", ...server.identityEnv, SEALKIT_AZURE_CHALLENGE_RESOURCE_VERIFICATION: "off", ...extraEnv },
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
  server = await startKeyVaultServer();
  server.admin.createKey("app", "RSA-HSM");
  dir = tempDir("sealkit-azfn-");
  // Seal (the operator's step), in process, through the real SDK clients.
  registerProvider(providerFor(server));
  const store = join(dir, "sealkit.secrets.json");
  const s = await initStore({ path: store, masterKeys: [{ provider: "azure-key-vault", keyRef: `${server.url}/keys/app` }] });
  keyRef = s.keys[0]?.keyRef as string;
  await setSecrets(store, new Map(Object.entries(VALUES).map(([k, v]) => [k, new TextEncoder().encode(v)])));
  // Build (CI's step): the example's own build script, with the real plugin.
  buildExample(example, store, outDir);
}, 180_000);

afterAll(async () => {
  for (const c of children) c.kill();
  await server?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe("examples/azure-functions", () => {
  it("the bundle holds envelopes only, and the manifest pins the key version", () => {
    const bundle = readFileSync(join(outDir, "handler.mjs"), "utf8");
    for (const v of Object.values(VALUES)) expect(bundle).not.toContain(v);
    expect(bundle).toMatch(/sealkit-key:1:/);
    expect(bundle).not.toMatch(/@azure\/keyvault-keys/); // the SDK is loaded lazily by the provider package
    const manifest = JSON.parse(readFileSync(join(outDir, "sealkit-manifest.json"), "utf8"));
    const entry = manifest.outputs["handler.mjs"] as { stores: { keys: { keyRef: string }[]; secrets: string[] }[] };
    expect(entry.stores[0]?.secrets).toEqual(["api-key", "db-password"]);
    expect(entry.stores[0]?.keys[0]?.keyRef).toBe(keyRef);
    expect(existsSync(join(outDir, "handler.mjs.map"))).toBe(true);
  });

  it("`sealkit policy` turns the manifest into an unwrap-only role at the key's scope", () => {
    const r = spawnSync(process.execPath, [cliBin, "policy", "--manifest", join(outDir, "sealkit-manifest.json"), "--json"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      outputs: Record<string, { provider: string; runtime: { roleDefinition: { DataActions: string[] }; roleAssignment: { scope: string } }[] }[]>;
    };
    const [entry] = doc.outputs["handler.mjs"] ?? [];
    expect(entry?.provider).toBe("azure-key-vault");
    expect(entry?.runtime[0]?.roleDefinition.DataActions).toEqual(["Microsoft.KeyVault/vaults/keys/unwrap/action"]);
    expect(entry?.runtime[0]?.roleAssignment.scope).toMatch(/\/keys\/app$/);
    for (const v of Object.values(VALUES)) expect(r.stdout).not.toContain(v);
  });

  it("serves both secrets after one unwrapKey per cold start, shared by concurrent requests", async () => {
    const url = await startFunction();
    const before = server.calls.length;
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(url).then((r) => r.json())));
    for (const a of answers) {
      expect(a).toEqual({ ok: true, fingerprints: { "db-password": fp(VALUES["db-password"]), "api-key": fp(VALUES["api-key"]) } });
    }
    // Managed-identity token, the bearer challenge, then exactly one unwrap; no GET.
    expect(server.calls.slice(before).map((c) => `${c.op}:${c.status}`)).toEqual(["challenge:401", "token:200", "unwrapKey:200"]);
  });

  it("a throttled cold start (429) is retried by the runtime and still serves", async () => {
    const url = await startFunction();
    const before = server.calls.length;
    server.admin.failNext(2, 429);
    const a = await fetch(url).then((r) => r.json());
    expect(a.ok).toBe(true);
    expect(server.calls.slice(before).filter((c) => c.op === "unwrapKey").map((c) => c.status)).toEqual([429, 429, 200]);
  });

  it("a function whose identity may not unwrap answers 503 E_ACCESS_DENIED, without retrying", async () => {
    server.admin.addPrincipal(server.token, ["get", "wrapKey"]);
    try {
      const url = await startFunction();
      const before = server.calls.length;
      const r = await fetch(url);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ ok: false, code: "E_ACCESS_DENIED" });
      expect(server.calls.slice(before).filter((c) => c.op === "unwrapKey").map((c) => c.status)).toEqual([403]);
    } finally {
      server.admin.addPrincipal(server.token, ["get", "wrapKey", "unwrapKey", "create", "rotate"]);
    }
  });
});
