/**
 * The development fallback of the Node entry: without a bundler (plain `node`, `tsx`, unit
 * tests of user code), a name with no registered envelope is read from the store file.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SealkitError, hasProvider, keyRecordOf, encodeEnvelope, parseStore, storedEnvelope } from "@sealkit/envelope";
import type { Fallback } from "./_state.js";

const STORE_FILE = "sealkit.secrets.json";

function notFound(message: string, details: Record<string, unknown>): SealkitError {
  return new SealkitError("E_NOT_FOUND", message, { details });
}

/** SEALKIT_STORE, else sealkit.secrets.json in the working directory or the nearest parent. */
export function findStoreFile(cwd = process.cwd()): string | undefined {
  if (process.env.SEALKIT_STORE) return resolve(cwd, process.env.SEALKIT_STORE);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, STORE_FILE);
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Imports the provider package a store names, resolving from the user's project first. */
async function loadProvider(id: string): Promise<boolean> {
  if (hasProvider(id)) return true;
  const spec = id === "local" ? "@sealkit/envelope/local" : `@sealkit/${id}`;
  try {
    await import(pathToFileURL(createRequire(join(process.cwd(), "noop.js")).resolve(spec)).href);
  } catch {
    try {
      await import(spec);
    } catch {
      // reported below, with the fix
    }
  }
  return hasProvider(id);
}

export const storeFallback: Fallback = async (name) => {
  const env = process.env;
  const off = env.SEALKIT_DEV_FALLBACK === "0" || (env.NODE_ENV === "production" && env.SEALKIT_DEV_FALLBACK !== "1");
  if (off) {
    throw notFound(
      `no envelope for secret "${name}" in this bundle, and the development fallback is off (${env.SEALKIT_DEV_FALLBACK === "0" ? "SEALKIT_DEV_FALLBACK=0" : "NODE_ENV=production"}): build with @sealkit/plugin, or set SEALKIT_DEV_FALLBACK=1 to read the store file`,
      { name },
    );
  }
  const file = findStoreFile();
  if (!file) {
    throw notFound(
      `no envelope for secret "${name}": this code was not built with @sealkit/plugin, and no ${STORE_FILE} was found in ${process.cwd()} or its parents. Build with the plugin, run from your project directory, or set SEALKIT_STORE to your store file.`,
      { name },
    );
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw notFound(
      `no envelope for secret "${name}", and the store file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}): check SEALKIT_STORE and the file's permissions`,
      { name, file },
    );
  }
  const store = parseStore(text, file);
  if (!store.secrets[name]) {
    const names = Object.keys(store.secrets).sort();
    throw notFound(
      `no secret named "${name}" in ${file} (it has ${names.length ? names.slice(0, 10).join(", ") + (names.length > 10 ? ", ..." : "") : "none"}): add it with \`sealkit set ${name}\``,
      { name, file },
    );
  }
  const providers = [...new Set(store.keys.map((k) => k.provider))];
  const loaded = await Promise.all(providers.map(loadProvider));
  if (!loaded.some(Boolean)) {
    throw new SealkitError(
      "E_CONFIG",
      `${file} is wrapped under ${providers.join(", ")}, and no provider for it could be loaded: install ${providers.map((p) => (p === "local" ? "@sealkit/envelope" : `@sealkit/${p}`)).join(" or ")} in your project`,
      { details: { file, providers } },
    );
  }
  return { keyRecord: keyRecordOf(store), envelope: encodeEnvelope(storedEnvelope(store, name)) };
};
