import { stripVTControlCharacters } from "node:util";
import { SealkitError, isSealkitError } from "@sealkit/envelope";
import { type CommandDef, defineCommand, renderUsage, runCommand } from "citty";
import { EXIT_CODES } from "./exit-codes.js";
import { useColor } from "./output.js";

export { EXIT_CODES } from "./exit-codes.js";

const version = "0.1.0";

/**
 * Commands load lazily, one folder each: `sealkit get` never imports a cloud SDK it does
 * not need. Other issues add commands here.
 */
export const main = defineCommand({
  meta: { name: "sealkit", version, description: "Seal secrets for serverless functions under a hardware-backed master key" },
  subCommands: {
    init: () => import("./commands/init/index.js").then((m) => m.default),
    set: () => import("./commands/set/index.js").then((m) => m.default),
    get: () => import("./commands/get/index.js").then((m) => m.default),
    list: () => import("./commands/list/index.js").then((m) => m.default),
    rm: () => import("./commands/rm/index.js").then((m) => m.default),
    verify: () => import("./commands/verify/index.js").then((m) => m.default),
    types: () => import("./commands/types/index.js").then((m) => m.default),
    policy: () => import("./commands/policy/index.js").then((m) => m.default),
    rekey: () => import("./commands/rekey/index.js").then((m) => m.default),
    rotate: () => import("./commands/rotate/index.js").then((m) => m.default),
    status: () => import("./commands/status/index.js").then((m) => m.default),
    scan: () => import("./commands/scan/index.js").then((m) => m.default),
    import: () => import("./commands/import/index.js").then((m) => m.default),
    exec: () => import("./commands/exec/index.js").then((m) => m.default),
    diff: () => import("./commands/diff/index.js").then((m) => m.default),
    hsm: () => import("./commands/hsm/index.js").then((m) => m.default),
  },
});

async function resolveValue<T>(v: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** Follows positional words down the sub-command tree, for `--help` at any depth. */
async function findCommand(rawArgs: string[]): Promise<[CommandDef, CommandDef | undefined]> {
  let cmd: CommandDef = main as CommandDef;
  let parent: CommandDef | undefined;
  for (const word of rawArgs) {
    if (word.startsWith("-")) continue;
    const subs = (await resolveValue(cmd.subCommands as never)) as Record<string, unknown> | undefined;
    if (!subs || !(word in subs)) break;
    parent = cmd;
    cmd = (await resolveValue(subs[word] as never)) as CommandDef;
  }
  return [cmd, parent];
}

/**
 * The CLI's one error boundary: every failure leaves here as a message (or a JSON document
 * with --json) and the exit code of its error code. Nothing below prints errors itself.
 */
export async function runCli(rawArgs: string[]): Promise<number> {
  // Words after `--` belong to a child command (`sealkit exec -- node --help`), not to us.
  const own = rawArgs.includes("--") ? rawArgs.slice(0, rawArgs.indexOf("--")) : rawArgs;
  const json = own.includes("--json");
  try {
    if (rawArgs.length === 0 || own.includes("--help") || own.includes("-h")) {
      const [cmd, parent] = await findCommand(rawArgs);
      const usage = await renderUsage(cmd, parent);
      process.stdout.write(`${useColor(process.stdout) ? usage : stripVTControlCharacters(usage)}\n`);
      return 0;
    }
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      process.stdout.write(`${version}\n`);
      return 0;
    }
    await runCommand(main, { rawArgs });
    return 0;
  } catch (e) {
    return report(e, json);
  }
}

function report(e: unknown, json: boolean): number {
  let err: SealkitError;
  let codeName: keyof typeof EXIT_CODES;
  if (isSealkitError(e)) {
    err = e;
    codeName = e.code;
  } else if ((e as { name?: string })?.name === "CLIError") {
    err = new SealkitError("E_INPUT", `${(e as Error).message} (see sealkit --help)`);
    codeName = "E_USAGE";
  } else {
    // An unexpected error: say so, with its message only (never values; none reach here).
    err = new SealkitError("E_PROVIDER", `unexpected error: ${(e as Error)?.message ?? String(e)}`);
    codeName = "E_UNEXPECTED";
    if (process.env.SEALKIT_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
  }
  const exit = EXIT_CODES[codeName] ?? 1;
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: { code: codeName === "E_USAGE" || codeName === "E_UNEXPECTED" ? codeName : err.code, message: err.message, details: err.details, exitCode: exit } }, null, 2)}\n`);
  } else {
    process.stderr.write(`sealkit: error ${codeName === "E_UNEXPECTED" ? codeName : err.code}: ${err.message}\n`);
  }
  return exit;
}
