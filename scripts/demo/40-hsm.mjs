// Part 4: the same flow with the master key in an HSM: a SoftHSM2 token in the demo's temp
// dir. Creates the token and a non-extractable AES-256 key, inits a store under it, seals
// and opens values (CLI and runtime), then shows that the key cannot be read out of the
// token. Skipped, with a note, when SoftHSM2 is not installed.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MODULES = [
  process.env.SEALKIT_PKCS11_MODULE,
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

const SECRETS = { "hsm-db-password": "hsm-guarded-Pw-8821", "hsm-api-token": "tok_hsm_77c1e0a9" };

export default async function hsm(ctx) {
  const module = MODULES.find((p) => p && existsSync(p));
  const util = spawnSync("softhsm2-util", ["--version"], { encoding: "utf8" });
  if (!module || util.error || util.status !== 0) {
    ctx.log("PKCS#11 HSM (SoftHSM2)", "SoftHSM2 is not installed here: skipping this part (apt-get install -y softhsm2 to run it)");
    return;
  }

  const hsmDir = join(ctx.dir, "hsm");
  mkdirSync(join(hsmDir, "tokens"), { recursive: true, mode: 0o700 });
  const conf = join(hsmDir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${join(hsmDir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`, { mode: 0o600 });
  // A throwaway token: its PINs exist only for this run. (softhsm2-util takes them as
  // arguments; sealkit itself only reads a PIN from SEALKIT_PKCS11_PIN or a file.)
  const pin = randomBytes(8).toString("hex");
  execFileSync(
    "softhsm2-util",
    ["--init-token", "--free", "--label", "sealkit-demo", "--pin", pin, "--so-pin", randomBytes(8).toString("hex")],
    { env: { ...ctx.env, SOFTHSM2_CONF: conf }, stdio: "ignore" },
  );
  const store = join(hsmDir, "sealkit.secrets.json");
  const env = { SOFTHSM2_CONF: conf, SEALKIT_PKCS11_MODULE: module, SEALKIT_PKCS11_PIN: pin, SEALKIT_STORE: store };
  ctx.log("PKCS#11 HSM: a fresh SoftHSM2 token", `module ${module}\ntoken "sealkit-demo" in ${join(hsmDir, "tokens")}`);

  ctx.log(
    "sealkit hsm create-key --token sealkit-demo --label sealkit-master",
    ctx.cli(["hsm", "create-key", "--token", "sealkit-demo", "--label", "sealkit-master"], { env }).stdout,
  );
  ctx.log(
    "sealkit init --provider pkcs11 --module … --token sealkit-demo --key sealkit-master",
    ctx.cli(["init", "--provider", "pkcs11", "--module", module, "--token", "sealkit-demo", "--key", "sealkit-master"], { env }).stdout,
  );
  for (const [name, value] of Object.entries(SECRETS)) ctx.log("", ctx.cli(["set", name], { input: value, env }).stdout);
  const got = ctx.cli(["get", "hsm-db-password"], { env }).stdout;
  if (got !== SECRETS["hsm-db-password"]) throw new Error("sealkit get returned a wrong value through the HSM");
  ctx.log("sealkit get hsm-db-password", `opened through the token: ${got.length} characters, matches what was set`);

  const storeText = readFileSync(store, "utf8");
  for (const value of Object.values(SECRETS)) if (storeText.includes(value)) throw new Error("the HSM store holds a plaintext value");

  // The runtime, in a fresh process: one token decryption opens both values.
  const script = join(hsmDir, "read-secrets.mjs");
  writeFileSync(
    script,
    `import { secret } from "@sealkit/runtime";\n` +
      `const names = ${JSON.stringify(Object.keys(SECRETS))};\n` +
      `const values = await Promise.all(names.map((n) => secret(n)));\n` +
      `process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n, i) => [n, values[i]]))));\n`,
  );
  const r = spawnSync(process.execPath, ["--import", join(ctx.root, "scripts/demo/resolve-workspace.mjs"), script], {
    cwd: hsmDir,
    env: { ...ctx.env, ...env },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`runtime read through the HSM failed: ${r.stderr}`);
  const opened = JSON.parse(r.stdout);
  for (const [name, value] of Object.entries(SECRETS)) if (opened[name] !== value) throw new Error(`runtime opened a wrong value for ${name}`);
  ctx.log('await secret("…") through @sealkit/runtime, data key unwrapped by the token', Object.keys(opened).map((n) => `${n}: opened`).join("\n"));

  // Try to get the master key out of the token, as an attacker with the PIN would.
  const probe = spawnSync(process.execPath, ["--input-type=module", "-e", EXTRACT_PROBE], {
    cwd: join(ctx.root, "packages/pkcs11"),
    env: { ...ctx.env, ...env },
    encoding: "utf8",
  });
  if (probe.status !== 0) throw new Error(`extraction probe failed to run: ${probe.stderr}`);
  const p = JSON.parse(probe.stdout);
  if (p.value === "ok" || p.wrapKey === "ok" || p.unlock === "ok") throw new Error("the master key could be read out of the token");
  ctx.log(
    "the master key cannot leave the token (attempts with the right PIN)",
    [
      `CKA_SENSITIVE=${p.sensitive}, CKA_EXTRACTABLE=${p.extractable}`,
      `C_GetAttributeValue(CKA_VALUE)            → ${p.value}`,
      `C_WrapKey(CKM_AES_KEY_WRAP_PAD, master)   → ${p.wrapKey}`,
      `C_SetAttributeValue(CKA_EXTRACTABLE=true) → ${p.unlock}`,
    ].join("\n"),
  );
}

// Runs in packages/pkcs11 (where pkcs11js resolves); module, config and PIN come from env.
const EXTRACT_PROBE = `
import { createRequire } from "node:module";
const P = createRequire(process.cwd() + "/package.json")("pkcs11js");
const ckr = (fn) => { try { fn(); return "ok"; } catch (e) { const m = /(CKR_[A-Z_]+)(?::(\\d+))?/.exec(e.message); return m ? (m[2] === "27" ? "CKR_ACTION_PROHIBITED" : m[1]) : e.message; } };
const lib = new P.PKCS11();
lib.load(process.env.SEALKIT_PKCS11_MODULE);
lib.C_Initialize();
const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === "sealkit-demo");
const session = lib.C_OpenSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
lib.C_Login(session, P.CKU_USER, process.env.SEALKIT_PKCS11_PIN);
lib.C_FindObjectsInit(session, [{ type: P.CKA_LABEL, value: "sealkit-master" }]);
const [key] = lib.C_FindObjects(session, 2);
lib.C_FindObjectsFinal(session);
const [s, x] = lib.C_GetAttributeValue(session, key, [{ type: P.CKA_SENSITIVE }, { type: P.CKA_EXTRACTABLE }]);
const wrapping = lib.C_GenerateKey(session, { mechanism: P.CKM_AES_KEY_GEN }, [
  { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }, { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
  { type: P.CKA_VALUE_LEN, value: 32 }, { type: P.CKA_TOKEN, value: false }, { type: P.CKA_WRAP, value: true },
]);
const out = {
  sensitive: s.value[0] === 1, extractable: x.value[0] === 1,
  value: ckr(() => lib.C_GetAttributeValue(session, key, [{ type: P.CKA_VALUE }])),
  wrapKey: ckr(() => lib.C_WrapKey(session, { mechanism: P.CKM_AES_KEY_WRAP_PAD }, wrapping, key, Buffer.alloc(128))),
  unlock: ckr(() => lib.C_SetAttributeValue(session, key, [{ type: P.CKA_EXTRACTABLE, value: true }])),
};
lib.C_CloseSession(session); lib.C_Finalize(); lib.close();
process.stdout.write(JSON.stringify(out));
`;
