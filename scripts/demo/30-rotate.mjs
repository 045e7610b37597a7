// Part 3: the key lifecycle. Status and age gates, rekey (values untouched), rotate (new
// data key, generation + 1), re-keying the already-built bundle in place without a rebuild,
// and the leak scan over the build output.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEMO_SECRETS } from "./10-seal.mjs";

export default async function rotate(ctx) {
  const store = () => JSON.parse(readFileSync(join(ctx.dir, "sealkit.secrets.json"), "utf8"));
  ctx.log("sealkit status", ctx.cli(["status"]).stdout);
  const gate = ctx.cli(["status", "--max-age", "90d"], { allowFail: true });
  if (gate.status !== 0) throw new Error(`a fresh store failed the 90-day gate: ${gate.stderr}`);
  ctx.log("sealkit status --max-age 90d (a CI gate: exit 0 now, exit 12 once the data key or a wrap is older)");

  const before = store();
  ctx.log("sealkit rekey --dry-run", ctx.cli(["rekey", "--dry-run"]).stdout);
  ctx.log("sealkit rekey", ctx.cli(["rekey"]).stdout);
  const rekeyed = store();
  if (rekeyed.keys[0].wrapped === before.keys[0].wrapped) throw new Error("rekey did not re-wrap the data key");
  if (JSON.stringify(rekeyed.secrets) !== JSON.stringify(before.secrets) || rekeyed.generation !== before.generation) {
    throw new Error("rekey changed values or the generation");
  }
  ctx.log("", "the wrapped data key changed; every value and the generation did not");

  ctx.log("sealkit rotate", ctx.cli(["rotate"]).stdout);
  const rotated = store();
  if (rotated.generation !== before.generation + 1) throw new Error("rotate did not increment the generation");
  for (const [name, value] of Object.entries(DEMO_SECRETS)) {
    if (ctx.cli(["get", name]).stdout !== value) throw new Error(`${name} changed value across rotate`);
  }
  ctx.log("", `generation ${before.generation} → ${rotated.generation}; every value re-sealed and still opens to the same text`);

  const dist = join(ctx.dir, "dist");
  if (!existsSync(join(dist, "handler.mjs"))) {
    ctx.log("(no built bundle from the build step: skipping the bundle part)");
    return;
  }
  const invoke = () => {
    const r = spawnSync(
      process.execPath,
      ["--enable-source-maps", "--input-type=module", "-e", `const { handler } = await import(${JSON.stringify(pathToFileURL(join(dist, "handler.mjs")).href)}); process.stdout.write((await handler()).body);`],
      { cwd: ctx.dir, env: ctx.env, encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`the built handler failed: ${r.stderr}`);
    const body = JSON.parse(r.stdout);
    if (body.password !== DEMO_SECRETS["db-password"] || body.token !== DEMO_SECRETS["api-token"]) throw new Error("the built handler got wrong values");
  };
  invoke();
  ctx.log("node dist/handler.mjs (built before the rotation)", "still opens its values: its generation-1 data key is wrapped under a master key that still works");
  const stale = ctx.cli(["status", "--bundle", "dist", "--max-age", "90d"], { allowFail: true });
  if (stale.status !== 12) throw new Error(`status --bundle should flag the superseded bundle (exit 12), got ${stale.status}`);
  ctx.log("sealkit status --bundle dist --max-age 90d → exit 12", stale.stdout + stale.stderr);

  const record = () => readFileSync(join(dist, "handler.mjs"), "utf8").match(/sealkit-key:1:[A-Za-z0-9_-]+/)?.[0];
  const oldRecord = record();
  ctx.log("sealkit rekey --bundle dist", ctx.cli(["rekey", "--bundle", "dist"]).stdout);
  if (record() === oldRecord) throw new Error("rekey --bundle did not change the data-key record");
  invoke();
  ctx.log("node dist/handler.mjs (re-keyed in place, not rebuilt)", "right values for db-password and api-token");

  ctx.log("sealkit scan dist", ctx.cli(["scan", "dist"]).stdout);
  const leaky = join(ctx.dir, "dist-leaky");
  cpSync(dist, leaky, { recursive: true });
  writeFileSync(join(leaky, "debug.log"), `token=${Buffer.from(DEMO_SECRETS["api-token"]).toString("base64")}\n`);
  const leak = ctx.cli(["scan", "dist-leaky"], { allowFail: true });
  if (leak.status !== 11) throw new Error(`scan should have found the planted leak (exit 11), got ${leak.status}`);
  if ((leak.stdout + leak.stderr).includes(DEMO_SECRETS["api-token"])) throw new Error("scan printed a value");
  ctx.log("sealkit scan dist-leaky (a base64 copy of api-token planted in debug.log) → exit 11", leak.stdout + leak.stderr);
}
