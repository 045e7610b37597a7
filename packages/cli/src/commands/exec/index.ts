import { spawn } from "node:child_process";
import { SealkitError, openValue, storedEnvelope, wipe } from "@sealkit/envelope";
import { notFound, readStoreFile, resolveStorePath, secretEnvNames, withDataKey } from "@sealkit/store";
import { defineCommand } from "citty";
import { allValues } from "../../args.js";
import { ensureProviders } from "../../providers.js";

export default defineCommand({
  meta: {
    name: "exec",
    description:
      "Development only: run a command with the store's secrets in its environment (db-password → DB_PASSWORD). Usage: sealkit exec [--only NAME] -- cmd args",
  },
  args: {
    store: { type: "string", description: "Store file (default: $SEALKIT_STORE or ./sealkit.secrets.json)" },
    only: { type: "string", description: "Only this secret (repeatable)" },
    prefix: { type: "string", description: "Prefix every variable name, e.g. APP_" },
  },
  async run({ args, rawArgs }) {
    const dash = rawArgs.indexOf("--");
    const command = dash >= 0 ? rawArgs.slice(dash + 1) : [];
    if (command.length === 0) throw new SealkitError("E_INPUT", "usage: sealkit exec [--only NAME] -- command [args...]");
    const path = resolveStorePath(args.store);
    const store = await readStoreFile(path);
    const only = allValues(rawArgs.slice(0, dash), "only");
    for (const n of only) if (!store.secrets[n]) throw notFound(store, n, path);
    const names = only.length ? only : Object.keys(store.secrets).sort();
    const vars = secretEnvNames(names, args.prefix ? String(args.prefix) : "");
    await ensureProviders(store.keys.map((k) => k.provider), path);
    const env: NodeJS.ProcessEnv = { ...process.env };
    await withDataKey(store, (dataKey) => {
      for (const name of names) {
        const bytes = openValue(dataKey, storedEnvelope(store, name));
        try {
          const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
          if (text.includes("\0")) throw new TypeError("NUL");
          env[vars.get(name) as string] = text;
        } catch {
          throw new SealkitError("E_INPUT", `secret "${name}" is binary and cannot go into an environment variable; leave it out with --only`, {
            details: { name },
          });
        } finally {
          wipe(bytes);
        }
      }
    });
    process.stderr.write(
      `sealkit exec: development only: ${names.length} secret(s) are in plaintext in the environment of ${command[0]} (and of anything it starts). In production, read them with secret() from @sealkit/runtime.\n`,
    );
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(command[0] as string, command.slice(1), { stdio: "inherit", env });
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, forward);
      child.on("error", (e) =>
        reject(new SealkitError("E_INPUT", `cannot run ${command[0]}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { details: { command: command[0] } })),
      );
      child.on("exit", (status, signal) => resolve(status ?? 128 + (signal ? signalNumber(signal) : 1)));
    });
    // The child's exit status is the command's: exit here, past the error boundary, which only maps errors.
    process.exit(code);
  },
});

function signalNumber(sig: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig] ?? 1;
}
