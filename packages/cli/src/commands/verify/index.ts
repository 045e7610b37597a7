import { SealkitError } from "@sealkit/envelope";
import { readStoreFile, resolveStorePath, verifyStore } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";
import { ensureProviders } from "../../providers.js";

export default defineCommand({
  meta: { name: "verify", description: "Check that every master key unwraps the data key and every value opens" },
  args: { ...commonArgs },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const store = await readStoreFile(path);
    await ensureProviders(store.keys.map((k) => k.provider), path);
    const r = await verifyStore(path);
    const badKeys = r.keys.filter((k) => !k.ok);
    out.result({ file: path, ...r }, () => {
      for (const k of r.keys) out.info(`${k.ok ? out.green("✓") : out.red("✗")} master key ${k.provider} ${k.keyRef}${k.code ? ` (${k.code}: ${k.message})` : ""}`);
      for (const n of r.ok) out.info(`${out.green("✓")} ${n}`);
      for (const f of r.failed) out.info(`${out.red("✗")} ${f.name} (${f.code})`);
    });
    if (r.failed.length > 0 || badKeys.length === r.keys.length) {
      const names = r.failed.map((f) => f.name);
      throw new SealkitError(
        r.failed[0]?.code === "E_AUTH" || badKeys.length === 0 ? "E_AUTH" : ((badKeys[0]?.code ?? "E_PROVIDER") as never),
        names.length ? `${names.length} secret(s) do not open: ${names.join(", ")}` : "no master key unwraps the data key",
        { details: { failed: names } },
      );
    }
    if (badKeys.length > 0) out.note(`warning: ${badKeys.length} of ${r.keys.length} master keys failed: ${badKeys.map((k) => k.keyRef).join(", ")}`);
  },
});
