import { wipe } from "@sealkit/envelope";
import { getSecret, readStoreFile, resolveStorePath } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";
import { ensureProviders } from "../../providers.js";

export default defineCommand({
  meta: { name: "get", description: "Open one value and print it to stdout (needs unwrap rights on a master key)" },
  args: {
    ...commonArgs,
    name: { type: "positional", description: "Secret name", required: true },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const store = await readStoreFile(path);
    await ensureProviders(store.keys.map((k) => k.provider), path);
    const value = await getSecret(path, String(args.name));
    try {
      if (out.json) {
        out.result({ name: args.name, value: new TextDecoder().decode(value) });
      } else {
        process.stdout.write(value);
        if (process.stdout.isTTY) process.stdout.write("\n");
      }
    } finally {
      wipe(value);
    }
  },
});
