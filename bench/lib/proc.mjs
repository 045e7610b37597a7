/**
 * Child processes of a benchmark: every child is tracked so that the run never leaves one
 * behind (killed on timeout, on error and at exit), and its result is the last JSON line it
 * prints on stdout. Children never print secret values, only digests and counts.
 */
import { spawn } from "node:child_process";

const live = new Set();

/** Kills every child still running (by its pid). Called at exit and on signals. */
export function killAll() {
  for (const c of live) {
    try {
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

process.once("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}

/**
 * Runs `node <args>` and resolves with `{ result, wallMs, code, stderr }`: `wallMs` is the
 * time from just before spawn to the moment the child printed its first `{"ready"...}` line
 * (or exited, if it never did). `result` is the parsed last JSON line. With `onSpawn`, the
 * child's stdin is a pipe and `onSpawn(child)` is called at once.
 */
export function runNode(args, { env = {}, timeoutMs = 60_000, cwd, onSpawn } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: [onSpawn ? "pipe" : "ignore", "pipe", "pipe"],
    });
    live.add(child);
    // The caller may talk to the child (stdin) and watch its output (stdout 'data').
    onSpawn?.(child);
    let out = "";
    let err = "";
    let readyMs;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      if (readyMs === undefined && d.includes('{"ready"')) readyMs = performance.now() - t0;
      out += d;
    });
    child.stderr.on("data", (d) => {
      if (err.length < 20_000) err += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      const lines = out.trim().split("\n").filter((l) => l.startsWith("{"));
      let result;
      try {
        result = lines.length ? JSON.parse(lines[lines.length - 1]) : undefined;
      } catch {
        result = undefined;
      }
      resolve({
        result,
        wallMs: readyMs ?? performance.now() - t0,
        code,
        signal,
        stderr: err.slice(0, 2000),
        timedOut: signal === "SIGKILL",
      });
    });
  });
}
