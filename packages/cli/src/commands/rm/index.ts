import { removeSecret, resolveStorePath } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";

export default defineCommand({
  meta: { name: "rm", description: "Remove a secret from the store" },
  args: {
    ...commonArgs,
    name: { type: "positional", description: "Secret name", required: true },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    await removeSecret(path, String(args.name));
    out.result({ name: args.name, removed: true }, () => out.info(`${out.green("✓")} removed ${out.bold(String(args.name))}`));
  },
});
