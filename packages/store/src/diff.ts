import { execFile } from "node:child_process";
import { basename, dirname } from "node:path";
import { promisify } from "node:util";
import { SealkitError, type StoreFile, parseStore } from "@sealkit/envelope";

export interface StoreDiff {
  added: string[];
  removed: string[];
  /** The value changed: `updatedAt` moved (set again, maybe to the same value). */
  changed: string[];
  /** Re-sealed under a new data key (rotate) with the value unchanged. */
  resealed: string[];
  generation: { from: number | null; to: number };
  keys: { added: string[]; removed: string[] };
}

/**
 * Compares two versions of a store without decrypting anything: a name is `changed` when
 * its `updatedAt` moved, `resealed` when only its ciphertext did (a rotation).
 */
export function diffStores(before: StoreFile | undefined, after: StoreFile): StoreDiff {
  const a = before?.secrets ?? {};
  const b = after.secrets;
  const d: StoreDiff = {
    added: [],
    removed: [],
    changed: [],
    resealed: [],
    generation: { from: before?.generation ?? null, to: after.generation },
    keys: { added: [], removed: [] },
  };
  for (const name of Object.keys(b).sort()) {
    const x = a[name];
    const y = b[name];
    if (!x || !y) d.added.push(name);
    else if (x.updatedAt !== y.updatedAt) d.changed.push(name);
    else if (x.ciphertext !== y.ciphertext || x.nonce !== y.nonce) d.resealed.push(name);
  }
  for (const name of Object.keys(a).sort()) if (!b[name]) d.removed.push(name);
  const ref = (k: { provider: string; keyRef: string }) => `${k.provider}:${k.keyRef}`;
  const ka = new Set((before?.keys ?? []).map(ref));
  const kb = new Set(after.keys.map(ref));
  d.keys.added = [...kb].filter((k) => !ka.has(k));
  d.keys.removed = [...ka].filter((k) => !kb.has(k));
  return d;
}

const run = promisify(execFile);

/**
 * The store file as it was at a git revision (`git show <rev>:./<file>`, run in the
 * store's directory). Undefined when the file did not exist at that revision.
 */
export async function storeAtRevision(path: string, rev: string): Promise<StoreFile | undefined> {
  if (!/^[\w./~^@{}-]+$/.test(rev) || rev.startsWith("-")) {
    throw new SealkitError("E_INPUT", `not a git revision: ${JSON.stringify(rev)}`, { details: { field: "rev" } });
  }
  const cwd = dirname(path);
  await run("git", ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], { cwd }).catch((e) => {
    throw new SealkitError("E_NOT_FOUND", `unknown git revision ${rev} in ${cwd}${(e as { code?: string }).code === "ENOENT" ? " (git is not installed)" : ""}`, {
      details: { rev },
    });
  });
  try {
    const { stdout } = await run("git", ["show", `${rev}:./${basename(path)}`], { cwd, maxBuffer: 256 * 1024 * 1024 });
    return parseStore(stdout, `${rev}:${basename(path)}`);
  } catch (e) {
    if (e instanceof SealkitError) throw e;
    const stderr = String((e as { stderr?: string }).stderr ?? "");
    if (/does not exist|exists on disk, but not in/.test(stderr)) return undefined;
    throw new SealkitError("E_IO", `git show ${rev}:./${basename(path)} failed: ${stderr.trim().slice(0, 300)}`, { details: { rev } });
  }
}
