// Part 5: the same flow under AWS KMS, against the local KMS server of the tests
// (test/support/aws-kms-server.ts, in a child process): a store wrapped under keys in two
// regions, set/get through the real KMSClient configured the standard way
// (AWS_ENDPOINT_URL_KMS, AWS_REGION, credentials from the environment), the example Lambda
// bundle built from it, the least-privilege policy for that bundle, one Decrypt per cold
// start, and failover when the first region goes down.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const SECRETS = { "db-password": "aws-sealed-Pw-4417", "api-key": "ak_aws_5c0ffee" };
const CREDS = { AWS_ACCESS_KEY_ID: "AKIADEMOEXAMPLE00001", AWS_SECRET_ACCESS_KEY: "demo/not/a/real/secret/0000000000000000" };

// The server process: starts, creates the keys, prints them as JSON, then answers one
// command per stdin line ("down <region>", "up <region>", "calls") with one JSON line.
const SERVER = `
import { createInterface } from "node:readline";
import { startKmsServer } from "./test/support/aws-kms-server.ts";
const creds = JSON.parse(process.env.DEMO_CREDS);
const s = await startKmsServer({ credentials: { [creds.AWS_ACCESS_KEY_ID]: creds.AWS_SECRET_ACCESS_KEY } });
const east = s.createKey({ region: "us-east-1" });
const west = s.createKey({ region: "eu-west-1" });
const alias = s.createAlias("alias/demo-app", east.keyId);
console.log(JSON.stringify({ url: s.url, east: east.arn, west: west.arn, alias }));
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.split(" ");
  if (cmd === "down" || cmd === "up") s.setRegionDown(arg, cmd === "down");
  if (cmd === "reset") s.resetCounters();
  console.log(JSON.stringify(cmd === "calls" ? s.requests.map((r) => [r.op, r.region, r.error ?? "ok"]) : "ok"));
}
await s.close();
`;

export default async function awsKms(ctx) {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", SERVER], {
    cwd: ctx.root,
    env: { ...ctx.env, DEMO_CREDS: JSON.stringify(CREDS) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value);
  const send = async (cmd) => {
    child.stdin.write(`${cmd}\n`);
    return next();
  };
  try {
    const k = await next();
    mkdirSync(join(ctx.dir, "aws"), { recursive: true });
    const store = join(ctx.dir, "aws", "sealkit.aws.secrets.json");
    const env = {
      ...CREDS,
      AWS_ENDPOINT_URL_KMS: k.url,
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PROFILE: "",
      SEALKIT_STORE: store,
    };
    ctx.log("AWS KMS: a local KMS server (AWS JSON 1.1, SigV4 verified) with keys in us-east-1 and eu-west-1", `endpoint ${k.url}\n${k.alias}\n${k.west}`);
    ctx.log(
      `sealkit init --provider aws-kms --key ${k.alias} --key ${k.west}`,
      ctx.cli(["init", "--provider", "aws-kms", "--key", k.alias, "--key", k.west], { env }).stdout,
    );
    for (const [name, value] of Object.entries(SECRETS)) ctx.log("", ctx.cli(["set", name], { input: value, env }).stdout);
    const got = ctx.cli(["get", "db-password"], { env }).stdout;
    if (got !== SECRETS["db-password"]) throw new Error("sealkit get returned a wrong value through AWS KMS");
    ctx.log("sealkit get db-password", `opened through KMS Decrypt: ${got.length} characters, matches what was set`);
    const storeText = readFileSync(store, "utf8");
    for (const value of Object.values(SECRETS)) if (storeText.includes(value)) throw new Error("the AWS store holds a plaintext value");

    // The example Lambda bundle, built from this store.
    const example = join(ctx.root, "examples/aws-lambda-esbuild");
    const out = join(ctx.dir, "aws", "dist");
    const build = spawnSync(process.execPath, ["build.mjs", "--store", store, "--outdir", out], { cwd: example, env: { ...ctx.env, ...env }, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`example build failed: ${build.stderr}`);
    ctx.log("node examples/aws-lambda-esbuild/build.mjs --store … --outdir …", `${out}/handler.mjs and sealkit-manifest.json`);
    ctx.log("sealkit policy --manifest …/sealkit-manifest.json", ctx.cli(["policy", "--manifest", join(out, "sealkit-manifest.json")], { env }).stdout);

    const invoke = (extra = {}) =>
      new Promise((resolve) => {
        const c = spawn(
          process.execPath,
          ["--input-type=module", "-e", `const m = await import(${JSON.stringify(join(out, "handler.mjs"))}); console.log((await m.handler()).body);`],
          { env: { ...ctx.env, ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] },
        );
        let o = "";
        let e = "";
        c.stdout.on("data", (d) => (o += d));
        c.stderr.on("data", (d) => (e += d));
        c.on("close", (status) => resolve({ status, out: o.trim(), err: e }));
      });
    await send("reset");
    const cold = await invoke();
    if (cold.status !== 0) throw new Error(`the handler failed: ${cold.err}`);
    const calls = await send("calls");
    ctx.log("a cold start of the bundle (fresh node process)", `${cold.out}\nkey-service calls: ${JSON.stringify(calls)}`);

    await send("reset");
    await send("down us-east-1");
    const failover = await invoke({ SEALKIT_BACKOFF: "1", SEALKIT_BACKOFF_CAP: "5" });
    await send("up us-east-1");
    if (failover.status !== 0) throw new Error(`the handler failed over badly: ${failover.err}`);
    ctx.log("us-east-1 down: the same bundle, another cold start", `${failover.out}\nkey-service calls: ${JSON.stringify(await send("calls"))}`);
  } finally {
    child.stdin.end();
    child.kill();
  }
}
