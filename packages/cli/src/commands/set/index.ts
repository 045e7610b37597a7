import { readFile } from "node:fs/promises";
import { SealkitError, assertSecretName, wipe } from "@sealkit/envelope";
import { readStoreFile, resolveStorePath, setSecret } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs, extraPositionals } from "../../args.js";
import { createOut } from "../../output.js";
import { ensureProviders } from "../../providers.js";
import { readHidden, readStdin } from "../../stdin.js";

export default defineCommand({
  meta: {
    name: "set",
    description: "Seal a value into the store. The value comes from stdin, --from-env or --from-file, never the command line",
  },
  args: {
    ...commonArgs,
    name: { type: "positional", description: "Secret name", required: true },
    "from-env": { type: "string", description: "Read the value from this environment variable" },
    "from-file": { type: "string", description: "Read the value (bytes, as they are) from this file" },
    "allow-empty": { type: "boolean", description: "Accept an empty value" },
    raw: { type: "boolean", description: "Keep stdin exactly as given (by default one trailing newline is dropped)" },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const name = String(args.name);
    if (extraPositionals(args as never, 1).length > 0) {
      throw new SealkitError(
        "E_INPUT",
        "sealkit set takes no value on the command line: it would land in your shell history and in `ps` output. Pipe it in (printf %s \"$VALUE\" | sealkit set NAME), or use --from-env VAR or --from-file PATH",
      );
    }
    assertSecretName(name);
    const path = resolveStorePath(args.store);
    const store = await readStoreFile(path);
    await ensureProviders(store.keys.map((k) => k.provider), path);
    const sources = [args["from-env"], args["from-file"]].filter((x) => x !== undefined);
    if (sources.length > 1) throw new SealkitError("E_INPUT", "give only one of --from-env and --from-file");
    let value: Uint8Array;
    if (args["from-env"] !== undefined) {
      const v = process.env[String(args["from-env"])];
      if (v === undefined) throw new SealkitError("E_INPUT", `environment variable ${args["from-env"]} is not set`);
      value = new TextEncoder().encode(v);
    } else if (args["from-file"] !== undefined) {
      try {
        value = new Uint8Array(await readFile(String(args["from-file"])));
      } catch (e) {
        throw new SealkitError("E_INPUT", `cannot read --from-file ${args["from-file"]}: ${(e as NodeJS.ErrnoException).code}`);
      }
    } else if (process.stdin.isTTY) {
      value = await readHidden(`value for ${name} (hidden, Enter to finish): `);
    } else {
      value = await readStdin(!args.raw);
    }
    try {
      if (value.length === 0 && !args["allow-empty"]) {
        throw new SealkitError("E_INPUT", `empty value for ${name}: nothing was written (pass --allow-empty to store an empty value)`);
      }
      const { created } = await setSecret(path, name, value);
      out.result({ name, created, file: path }, () =>
        out.info(`${out.green("✓")} ${created ? "added" : "updated"} ${out.bold(name)} (${value.length} bytes sealed)`),
      );
    } finally {
      wipe(value);
    }
  },
});
