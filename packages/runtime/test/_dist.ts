/** Paths of the built runtime; the tests that use them need `tsc -b` first (pnpm test builds). */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const PKG = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST_NODE = join(PKG, "dist/node.js");
export const DIST_INDEX = join(PKG, "dist/index.js");
export const ENVELOPE_DIST = join(PKG, "node_modules/@sealkit/envelope/dist/index.js");
export const url = (p: string) => pathToFileURL(p).href;

export function requireBuild(): void {
  for (const f of [DIST_NODE, DIST_INDEX, ENVELOPE_DIST]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npx tsc -b packages/runtime\` first`);
  }
}
