import { relative } from "node:path";
import { readStoreFile, resolveStorePath, rotateStore } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { currentKeyRef } from "../../lifecycle.js";
import { createOut } from "../../output.js";
import { ensureProviders } from "../../providers.js";

export default defineCommand({
  meta: {
    name: "rotate",
    description: "Make a new data key, re-seal every value under it and increment the generation (rebuild or re-key bundles afterwards)",
  },
  args: {
    ...commonArgs,
    "dry-run": { type: "boolean", description: "Show what would change; call no key service, write nothing" },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const store = await readStoreFile(path);
    await ensureProviders(store.keys.map((k) => k.provider), path);
    const dryRun = Boolean(args["dry-run"]);
    const r = await rotateStore(path, { dryRun, currentKeyRef });
    out.result(r, () => {
      const file = relative(process.cwd(), path) || path;
      out.info(
        `${dryRun ? out.yellow("dry run:") : out.green("✓")} ${file}: generation ${r.fromGeneration} → ${r.generation}, ${r.resealed.length} value(s) ${dryRun ? "would be " : ""}re-sealed under a new data key`,
      );
      for (const k of r.keys) out.info(`  data key ${dryRun ? "would be " : ""}wrapped under ${k.provider} ${k.keyRef}`);
      if (!dryRun) {
        out.info("  bundles built before this still carry generation " + r.fromGeneration + ": they keep working while their master keys do; rebuild to pick up the new data key");
      }
    });
  },
});
