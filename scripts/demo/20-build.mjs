// Part 2: build a function with @sealkit/plugin (esbuild) from the demo's store, invoke the
// built output, and show that the bundle carries envelopes and one data-key record, no value.
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEMO_SECRETS } from "./10-seal.mjs";

export default async function build(ctx) {
  const esbuild = await import("esbuild");
  const { default: sealkit } = await import(pathToFileURL(join(ctx.root, "packages/plugin/dist/esbuild.js")).href);
  const used = ["db-password", "api-token"];
  writeFileSync(
    join(ctx.dir, "handler.ts"),
    [
      'import { secret } from "@sealkit/runtime";',
      "",
      "export async function handler() {",
      '  const password = await secret("db-password");',
      '  const token = await secret("api-token");',
      "  return { statusCode: 200, body: JSON.stringify({ password, token }) };",
      "}",
      "",
    ].join("\n"),
  );
  ctx.log("handler.ts", readFileSync(join(ctx.dir, "handler.ts"), "utf8"));

  await esbuild.build({
    absWorkingDir: ctx.dir,
    entryPoints: ["handler.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    minify: true,
    sourcemap: true,
    outfile: "dist/handler.mjs",
    // the demo dir has no node_modules: find the workspace packages here
    nodePaths: [join(ctx.root, "packages/plugin/node_modules")],
    logLevel: "warning",
    plugins: [sealkit({ root: ctx.dir, dts: false })],
  });
  const dist = join(ctx.dir, "dist");
  const code = readFileSync(join(dist, "handler.mjs"), "utf8");
  const envelopes = [...code.matchAll(/sealkit:1:[A-Za-z0-9_-]+:\d+:([A-Za-z0-9_.-]+):/g)].map((m) => m[1]);
  const records = code.match(/sealkit-key:1:[A-Za-z0-9_-]+/g) ?? [];
  ctx.log(
    "esbuild + @sealkit/plugin → dist/handler.mjs",
    `${(code.length / 1024).toFixed(1)} KB; ${records.length} data-key record; envelopes for: ${envelopes.join(", ")}\n` +
      `(signing-key is in the store but not referenced, so it is not in the bundle)`,
  );
  if (records.length !== 1 || envelopes.sort().join() !== [...used].sort().join()) throw new Error("unexpected bundle contents");
  for (const f of readdirSync(dist)) {
    const text = readFileSync(join(dist, f), "utf8");
    for (const value of Object.values(DEMO_SECRETS)) {
      for (const form of [value, Buffer.from(value).toString("base64"), Buffer.from(value).toString("hex"), encodeURIComponent(value)]) {
        if (text.includes(form)) throw new Error(`${f} contains a plaintext value`);
      }
    }
  }
  ctx.log("no plaintext in dist/ (bundle, source map, manifest; raw, base64, hex, URL-encoded)");
  const manifest = JSON.parse(readFileSync(join(dist, "sealkit-manifest.json"), "utf8"));
  const entry = manifest.outputs["handler.mjs"].stores[0];
  ctx.log("dist/sealkit-manifest.json", `secrets: ${entry.secrets.join(", ")}\nmaster key: ${entry.keys.map((k) => `${k.provider} ${k.keyRef}`).join(", ")}`);

  const r = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `const { handler } = await import(${JSON.stringify(pathToFileURL(join(dist, "handler.mjs")).href)}); process.stdout.write((await handler()).body);`],
    { cwd: ctx.dir, env: ctx.env, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`the built handler failed: ${r.stderr}`);
  const body = JSON.parse(r.stdout);
  if (body.password !== DEMO_SECRETS["db-password"] || body.token !== DEMO_SECRETS["api-token"]) throw new Error("the built handler got wrong values");
  ctx.log("node dist/handler.mjs → handler()", `db-password: right value, ${body.password.length} characters\napi-token: right value, ${body.token.length} characters`);
}
