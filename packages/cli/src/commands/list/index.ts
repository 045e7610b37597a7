import { listSecrets, resolveStorePath } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";

export default defineCommand({
  meta: { name: "list", description: "List secret names, when each changed, and the master keys (never values)" },
  args: { ...commonArgs },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const { store, secrets } = await listSecrets(path);
    const keys = store.keys.map((k) => ({ provider: k.provider, keyRef: k.keyRef, createdAt: k.createdAt }));
    out.result({ file: path, storeId: store.storeId, generation: store.generation, keys, secrets }, () => {
      out.info(`${out.bold(path)}  store ${store.storeId}, generation ${store.generation}`);
      for (const k of keys) out.info(`  master key  ${k.provider}  ${k.keyRef}`);
      if (secrets.length === 0) out.info("  (no secrets yet)");
      const w = Math.max(...secrets.map((s) => s.name.length), 4);
      for (const s of secrets) out.info(`  ${s.name.padEnd(w)}  ${out.dim(s.updatedAt)}`);
    });
  },
});
