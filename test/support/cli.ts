import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const cliBin = join(repoRoot, "packages/cli/dist/bin.js");

export interface CliResult {
  status: number | null;
  /** The signal that ended the process (e.g. SIGKILL in crash tests), else null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `sealkit` CLI as a subprocess (needs `pnpm build`). */
export function sealkit(
  args: string[],
  opts: { cwd: string; input?: string | Buffer; env?: Record<string, string | undefined> },
): CliResult {
  const env: Record<string, string | undefined> = {
    ...process.env,
    SEALKIT_LOCAL_KEY: undefined,
    SEALKIT_LOCAL_KEY_FILE: undefined,
    SEALKIT_STORE: undefined,
    NO_COLOR: "1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const r = spawnSync(process.execPath, [cliBin, ...args], {
    cwd: opts.cwd,
    input: opts.input ?? "",
    env: env as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = "sealkit-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Runs `node ARGS` asynchronously with exactly `env` (undefined entries dropped), so a key
 * server in the test's own process can answer while the child runs (spawnSync would block
 * it).
 */
export function runNode(
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; input?: string },
): Promise<CliResult> {
  return startNode(args, opts).done;
}

/** Like `runNode`, with the child process, for tests that signal it while it runs. */
export function startNode(
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; input?: string },
): { child: ChildProcess; done: Promise<CliResult> } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
  const child = spawn(process.execPath, args, { cwd: opts.cwd, env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  child.stdin.end(opts.input ?? "");
  return { child, done };
}

/** The built CLI, asynchronously (see `runNode`). */
export function sealkitAsync(
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; input?: string },
): Promise<CliResult> {
  return runNode([cliBin, ...args], opts);
}
