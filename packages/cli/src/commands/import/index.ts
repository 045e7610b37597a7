import { readFile } from "node:fs/promises";
import { SealkitError, isValidSecretName, wipe } from "@sealkit/envelope";
import { readStoreFile, resolveStorePath, setSecrets } from "@sealkit/store";
import { defineCommand } from "citty";
import { parse } from "dotenv";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";
import { ensureProviders } from "../../providers.js";

export default defineCommand({
  meta: {
    name: "import",
    description: "Seal every variable of a .env file into the store in one write (names as in the file; prints names, never values)",
  },
  args: {
    ...commonArgs,
    file: { type: "positional", description: ".env file to import", required: true },
    "allow-empty": { type: "boolean", description: "Import empty values too (skipped by default)" },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const store = await readStoreFile(path);
    await ensureProviders(store.keys.map((k) => k.provider), path);
    let text: Buffer;
    try {
      text = await readFile(String(args.file));
    } catch (e) {
      throw new SealkitError("E_INPUT", `cannot read ${args.file}: ${(e as NodeJS.ErrnoException).code}`, { details: { file: String(args.file) } });
    }
    const parsed = parse(text);
    text.fill(0);
    const values = new Map<string, Uint8Array>();
    const skipped: { name: string; reason: string }[] = [];
    const invalid = Object.keys(parsed).filter((n) => !isValidSecretName(n));
    if (invalid.length > 0) {
      throw new SealkitError("E_INPUT", `not valid secret names: ${invalid.join(", ")} (nothing was imported)`, { details: { names: invalid } });
    }
    for (const [name, value] of Object.entries(parsed)) {
      if (value === "" && !args["allow-empty"]) skipped.push({ name, reason: "empty" });
      else values.set(name, new TextEncoder().encode(value));
    }
    try {
      const r = values.size > 0 ? await setSecrets(path, values) : { created: [], updated: [] };
      out.result({ file: path, ...r, skipped }, () => {
        out.info(`${out.green("✓")} imported ${values.size} value(s) from ${args.file} into ${path}`);
        if (r.created.length) out.info(`  added:   ${r.created.join(", ")}`);
        if (r.updated.length) out.info(`  updated: ${r.updated.join(", ")}`);
        if (skipped.length) out.info(`  skipped (empty; --allow-empty to import): ${skipped.map((s) => s.name).join(", ")}`);
      });
    } finally {
      for (const v of values.values()) wipe(v);
    }
  },
});
