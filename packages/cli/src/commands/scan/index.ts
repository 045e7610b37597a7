import { SealkitError } from "@sealkit/envelope";
import { DEFAULT_MIN_LEAK_LENGTH, assertNoLeaks, readStoreFile, resolveStorePath, scanStoreForLeaks } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";
import { ensureProviders } from "../../providers.js";

export default defineCommand({
  meta: {
    name: "scan",
    description:
      "Fail (exit 11) if any plaintext value of the store appears in files under a directory: raw, JSON-escaped, base64, base64url, hex or URL-encoded. Reports file and offset, never the value",
  },
  args: {
    ...commonArgs,
    dir: { type: "positional", description: "Directory (or file) to scan, e.g. dist/", required: true },
    "min-length": { type: "string", description: `Skip values shorter than this many bytes (default ${DEFAULT_MIN_LEAK_LENGTH})` },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const minLength = args["min-length"] === undefined ? DEFAULT_MIN_LEAK_LENGTH : Number(args["min-length"]);
    if (!Number.isSafeInteger(minLength) || minLength < 1) throw new SealkitError("E_INPUT", "--min-length must be a positive whole number");
    const store = await readStoreFile(path);
    await ensureProviders(store.keys.map((k) => k.provider), path);
    const r = await scanStoreForLeaks(path, String(args.dir), { minLength });
    if (r.skippedShort.length > 0) {
      out.note(`note: not searched (shorter than ${minLength} bytes, too likely to match by chance): ${r.skippedShort.join(", ")}`);
    }
    // --json prints one document: the result, or (on a leak) the error carrying the findings.
    if (!(out.json && r.findings.length)) out.result(r, () => {
      if (r.findings.length === 0) out.info(`${out.green("✓")} no plaintext of ${r.valuesChecked} value(s) in ${r.filesScanned} file(s) under ${r.dir}`);
      for (const f of r.findings) out.info(`${out.red("✗")} ${f.file}@${f.offset}: ${f.name} (${f.encoding})`);
    });
    assertNoLeaks(r);
  },
});
