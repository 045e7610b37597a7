import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { SealkitError } from "@sealkit/envelope";

/** Directories never searched: version control, dependencies, local key files. */
const SKIP_DIRS = new Set([".git", "node_modules", ".sealkit"]);

/**
 * Every file under `dir`, in a stable (sorted) order, skipping `.git`, `node_modules` and
 * `.sealkit`. A file given as `dir` is yielded itself. `what` names the directory in errors.
 */
export async function* walkFiles(dir: string, what: string): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") {
      yield dir;
      return;
    }
    throw new SealkitError(code === "ENOENT" ? "E_NOT_FOUND" : "E_IO", `cannot read ${what} ${dir}: ${code}`, { details: { file: dir } });
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) yield* walkFiles(p, what);
    } else if (e.isFile()) yield p;
  }
}
