/**
 * Module files the plugin writes for a bundler to resolve and load natively (no plugin hook
 * per import): Vite's stand-in for the runtime. They hold data-key records, never a value,
 * under `node_modules/.sealkit/`.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The directory for one design's files in a project. Its package.json says the files have
 * side effects: bundlers honour the nearest package.json's `sideEffects`, and a project
 * that declares `false` would otherwise lose the imports that register the envelopes.
 */
export function moduleDir(root: string, design: string): string {
  const base = join(root, "node_modules", ".sealkit");
  const manifest = join(base, "package.json");
  if (!existsSync(manifest)) writeAtomic(manifest, `${JSON.stringify(PACKAGE, null, 2)}\n`);
  return join(base, design);
}

const PACKAGE = { name: "sealkit-generated-modules", private: true, type: "module", sideEffects: true };

/** Writes atomically: a temp file beside it, then a rename, so a reader never sees half. */
export function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes only when the text changed (the file is usually there from the last build). */
export function writeIfChanged(path: string, text: string): void {
  try {
    if (readFileSync(path, "utf8") === text) return;
  } catch {
    // not written yet
  }
  writeAtomic(path, text);
}
