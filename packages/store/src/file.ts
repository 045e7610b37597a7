import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, readFile, readdir, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { SealkitError, type StoreFile, parseStore, serializeStore } from "@sealkit/envelope";
import lockfile from "proper-lockfile";
import { faultPoint } from "./faults.js";

export const DEFAULT_STORE_FILE = "sealkit.secrets.json";

/** `--store` wins, then `SEALKIT_STORE`, then `sealkit.secrets.json` in the working directory. */
export function resolveStorePath(store?: string, cwd = process.cwd()): string {
  return resolve(cwd, store || process.env.SEALKIT_STORE || DEFAULT_STORE_FILE);
}

export async function readStoreFile(path: string): Promise<StoreFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw readError(e, path);
  }
  return parseStore(text, path);
}

/** The same, synchronously: for build hooks, where fs/promises costs event-loop round trips. */
export function readStoreFileSync(path: string): StoreFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw readError(e, path);
  }
  return parseStore(text, path);
}

function readError(e: unknown, path: string): SealkitError {
  if ((e as NodeJS.ErrnoException).code === "ENOENT") {
    return new SealkitError(
      "E_NOT_FOUND",
      `no store file at ${path}: create one with \`sealkit init\`, or pick another with --store or SEALKIT_STORE`,
      { details: { file: path } },
    );
  }
  return ioError(e, `cannot read store file ${path}`, path);
}

export async function storeExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes the store atomically: a temp file in the same directory, fsync, rename over the
 * old file, fsync the directory. A crash at any point leaves either the old or the new
 * file, never a torn one. Hand-written (rather than write-file-atomic) to place the
 * fault-injection points the crash tests need and to fsync the directory.
 */
export async function writeStoreFile(path: string, store: StoreFile, opts: { exclusive?: boolean } = {}): Promise<void> {
  const text = serializeStore(store);
  // Round-trip check: never write something this code could not read back.
  parseStore(text, path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let mode = 0o644;
  try {
    mode = (await stat(path)).mode & 0o777;
    if (opts.exclusive) {
      throw new SealkitError("E_CONFIG", `a store already exists at ${path}; refusing to overwrite it`, { details: { file: path } });
    }
  } catch (e) {
    if (e instanceof SealkitError) throw e;
  }
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(text);
      faultPoint("temp-written");
      await fh.sync();
      faultPoint("temp-synced");
    } finally {
      await fh.close();
    }
    faultPoint("before-rename");
    await rename(tmp, path);
    faultPoint("after-rename");
    await syncDir(dir);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw ioError(e, `cannot write store file ${path}`, path);
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic.
  }
}

/** A holder refreshes the lock every STALE/2; a lock not refreshed for STALE is taken over. */
const LOCK_STALE_MS = 5_000;

/**
 * Runs `fn` holding the store's lock file (`<store>.lock`), so two writers never
 * interleave a read-modify-write. A lock whose holder died (kill -9, crash) goes stale
 * after 5 s; the retries below wait about 8 s, so the next command takes a dead holder's
 * lock over instead of failing. A live holder's lock still fails clearly with E_LOCKED.
 * Temp files a killed writer left are removed once the lock is held: only lock holders
 * create them, so none can belong to a live writer.
 */
export async function withStoreLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = `${path}.lock`;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      lockfilePath: lockPath,
      stale: LOCK_STALE_MS,
      retries: { retries: 40, minTimeout: 25, maxTimeout: 250, factor: 1.5 },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOCKED") {
      throw new SealkitError(
        "E_LOCKED",
        `store ${path} is locked by another sealkit process (lock ${lockPath}); try again, or remove the lock if no sealkit is running`,
        { details: { file: path, lock: lockPath } },
      );
    }
    throw ioError(e, `cannot lock store ${path}`, path);
  }
  try {
    faultPoint("lock-acquired");
    await removeLeftoverTemps(path);
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}

/** Deletes `.<store>.<pid>.<random>.tmp` files of earlier, killed writers. Call under the lock. */
async function removeLeftoverTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(prefix) && n.endsWith(".tmp")) await unlink(join(dirname(path), n)).catch(() => {});
  }
}

function ioError(e: unknown, what: string, file: string): SealkitError {
  if (e instanceof SealkitError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const hints: Record<string, string> = {
    ENOSPC: " (disk full; the old store is unchanged)",
    EACCES: " (permission denied)",
    EISDIR: " (that is a directory: give the path of the store file)",
    ENOTDIR: " (a part of that path is a file, not a directory)",
    ENOENT: " (its directory does not exist: create it first)",
  };
  const hint = (code && hints[code]) ?? "";
  return new SealkitError("E_IO", `${what}: ${code ?? (e as Error).message}${hint}`, { cause: e, details: { file, errno: code } });
}
