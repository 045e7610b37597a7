import { spawnSync } from "node:child_process";
import { join } from "node:path";

/**
 * Builds an example with its own `build.mjs` (the real plugin), the way CI would: the store
 * and output directory come from SEALKIT_STORE and OUT_DIR. Throws with the build's output
 * when it fails.
 */
export function buildExample(exampleDir: string, store: string, outDir: string): void {
  const build = spawnSync(process.execPath, [join(exampleDir, "build.mjs")], {
    env: { ...process.env, SEALKIT_STORE: store, OUT_DIR: outDir },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}${build.stdout}`);
}
