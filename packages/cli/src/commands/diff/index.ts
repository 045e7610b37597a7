import { diffStores, readStoreFile, resolveStorePath, storeAtRevision } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";

export default defineCommand({
  meta: {
    name: "diff",
    description: "Names added, changed, re-sealed or removed since a git revision, from the store file alone (nothing is decrypted)",
  },
  args: {
    ...commonArgs,
    rev: { type: "positional", description: "Git revision to compare with (HEAD~1, main, a tag)", required: true },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const rev = String(args.rev);
    const [before, after] = await Promise.all([storeAtRevision(path, rev), readStoreFile(path)]);
    const d = diffStores(before, after);
    out.result({ file: path, rev, existedAtRev: before !== undefined, ...d }, () => {
      if (!before) out.info(`(the store did not exist at ${rev})`);
      if (d.generation.from !== null && d.generation.from !== d.generation.to) out.info(`generation ${d.generation.from} → ${d.generation.to} (rotated)`);
      for (const n of d.added) out.info(`${out.green("+")} ${n}`);
      for (const n of d.changed) out.info(`${out.yellow("~")} ${n}`);
      for (const n of d.removed) out.info(`${out.red("-")} ${n}`);
      if (d.resealed.length) out.info(out.dim(`  ${d.resealed.length} value(s) re-sealed, unchanged: ${d.resealed.join(", ")}`));
      for (const k of d.keys.added) out.info(`${out.green("+")} master key ${k}`);
      for (const k of d.keys.removed) out.info(`${out.red("-")} master key ${k}`);
      if (!d.added.length && !d.changed.length && !d.removed.length) out.info(`no names added, changed or removed since ${rev}`);
    });
  },
});
