import { writeFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { dtsSource } from "@sealkit/plugin/dts";
import { listSecrets, resolveStorePath } from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";

export default defineCommand({
  meta: {
    name: "types",
    description: "Write the .d.ts that types secret names (secret(\"typo\") becomes a TypeScript error), without a build",
  },
  args: {
    ...commonArgs,
    out: { type: "string", description: "Declaration file to write (default: sealkit-env.d.ts)", default: "sealkit-env.d.ts" },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const file = resolve(String(args.out));
    const { secrets } = await listSecrets(path);
    const names = secrets.map((s) => s.name);
    await writeFile(file, dtsSource(names, relative(dirname(file), path)));
    out.result({ file, store: path, names }, () => out.info(`✓ wrote ${file} (${names.length} secret names from ${path})`));
  },
});
