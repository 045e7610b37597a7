import { readFile } from "node:fs/promises";
import { SealkitError } from "@sealkit/envelope";

/** The build manifest as `sealkit policy` reads it (format: docs/architecture.md). */
export interface ManifestStore {
  storeId: string;
  generation: number;
  storeFile?: string;
  keys: { provider: string; keyRef: string; context: Record<string, string> }[];
  secrets: string[];
}
export interface Manifest {
  sealkit: number;
  generatedAt?: string;
  outputs: Record<string, { stores: ManifestStore[] }>;
}

export const DEFAULT_MANIFEST = "./dist/sealkit-manifest.json";

/** Reads and checks the manifest; every problem is E_NOT_FOUND or E_FORMAT naming the field. */
export async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new SealkitError("E_NOT_FOUND", `no build manifest at ${path}: build with @sealkit/plugin first, or point --manifest at it`, {
        details: { file: path },
      });
    }
    throw new SealkitError("E_IO", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`, { details: { file: path } });
  }
  const bad = (why: string) => new SealkitError("E_FORMAT", `malformed build manifest ${path}: ${why}`, { details: { file: path } });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  const m = raw as Manifest;
  if (!m || typeof m !== "object" || m.sealkit !== 1) throw bad('expected "sealkit": 1');
  if (!m.outputs || typeof m.outputs !== "object" || Array.isArray(m.outputs)) throw bad('"outputs" is not an object');
  for (const [out, entry] of Object.entries(m.outputs)) {
    if (!entry || !Array.isArray(entry.stores)) throw bad(`outputs["${out}"].stores is not an array`);
    for (const [i, s] of entry.stores.entries()) {
      const at = `outputs["${out}"].stores[${i}]`;
      if (typeof s?.storeId !== "string" || !Number.isSafeInteger(s.generation)) throw bad(`${at} lacks storeId or generation`);
      if (!Array.isArray(s.secrets) || s.secrets.some((n) => typeof n !== "string")) throw bad(`${at}.secrets is not a list of names`);
      if (!Array.isArray(s.keys)) throw bad(`${at}.keys is not an array`);
      for (const [j, k] of s.keys.entries()) {
        if (typeof k?.provider !== "string" || typeof k.keyRef !== "string" || !k.context || typeof k.context !== "object") {
          throw bad(`${at}.keys[${j}] needs provider, keyRef and context`);
        }
      }
    }
  }
  return m;
}
