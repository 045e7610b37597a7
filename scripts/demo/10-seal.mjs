// Part 1: init a store on the local provider, seal three secrets, open them through the
// runtime, and show that the store file holds no plaintext.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const DEMO_SECRETS = {
  "db-password": "correct-horse-battery-staple",
  "api-token": "tok_live_4f9a8c1d2e3b",
  "signing-key": "-----BEGIN DEMO KEY-----\nMIIBVwIBADANBgkqhkiG9w0BAQEFAASCAUEwggE9\n-----END DEMO KEY-----",
};

export default async function seal(ctx) {
  ctx.log("sealkit init --provider local", ctx.cli(["init", "--provider", "local"]).stdout);

  ctx.log("sealkit set (values piped on stdin, never on the command line)");
  for (const [name, value] of Object.entries(DEMO_SECRETS)) {
    ctx.log("", ctx.cli(["set", name], { input: value }).stdout);
  }

  ctx.log("sealkit list", ctx.cli(["list"]).stdout);
  ctx.log("sealkit verify", ctx.cli(["verify"]).stdout);

  const storeText = readFileSync(join(ctx.dir, "sealkit.secrets.json"), "utf8");
  for (const value of Object.values(DEMO_SECRETS)) {
    for (const form of [value, Buffer.from(value).toString("base64"), Buffer.from(value).toString("hex")]) {
      if (storeText.includes(form)) throw new Error("the store file contains a plaintext value");
    }
  }
  ctx.log("the store file holds no plaintext (raw, base64 or hex)", storeText.split("\n").slice(0, 9).join("\n") + "\n  …");

  // Open them through the runtime, without a bundler: the Node entry of @sealkit/runtime
  // reads the store in development.
  const script = join(ctx.dir, "read-secrets.mjs");
  writeFileSync(
    script,
    `import { secret } from "@sealkit/runtime";\n` +
      `const names = ${JSON.stringify(Object.keys(DEMO_SECRETS))};\n` +
      `const values = await Promise.all(names.map((n) => secret(n)));\n` +
      `process.stdout.write(JSON.stringify(Object.fromEntries(names.map((n, i) => [n, values[i]]))));\n`,
  );
  const r = spawnSync(process.execPath, ["--import", join(ctx.root, "scripts/demo/resolve-workspace.mjs"), script], {
    cwd: ctx.dir,
    env: ctx.env,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`runtime read failed: ${r.stderr}`);
  const opened = JSON.parse(r.stdout);
  for (const [name, value] of Object.entries(DEMO_SECRETS)) {
    if (opened[name] !== value) throw new Error(`runtime opened a wrong value for ${name}`);
  }
  ctx.log(
    'await secret("…") through @sealkit/runtime (Node, no bundler)',
    Object.keys(opened)
      .map((n) => `${n}: opened, ${opened[n].length} characters`)
      .join("\n"),
  );
}
