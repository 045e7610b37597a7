/**
 * `@sealkit/envelope/local` on Node: the master key comes from `SEALKIT_LOCAL_KEY`, or else
 * from a key file (`SEALKIT_LOCAL_KEY_FILE`, default `.sealkit/local.key` under the working
 * directory), which must be readable by its owner only (like an SSH private key).
 * Importing this module registers the provider.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { chmod, mkdir, open, readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { concatBytes, toBase64, wipe } from "./_bytes.js";
import { type LocalKeySource, type LocalProviderOptions, envKeySource, generateLocalKey, localCore, parseLocalKey } from "./_local-core.js";
import { type Aead, TAG_BYTES } from "./aead.js";
import { SealkitError, openFailed } from "./errors.js";
import type { KeyProvider } from "./provider.js";
import { registerProvider } from "./provider.js";

export {
  LOCAL_PROVIDER_ID,
  MISSING_KEY_HINT,
  type LocalCrypto,
  type LocalKeySource,
  type LocalProviderOptions,
  envKeySource,
  generateLocalKey,
  parseLocalKey,
} from "./_local-core.js";

/**
 * AES-256-GCM on node:crypto. `open` keeps what the decipher returns until `final()` has
 * checked the tag, and wipes it when the check fails: no byte is released unverified.
 */
const nodeAead: Aead = {
  seal(key, nonce, plaintext, aad) {
    const c = createCipheriv("aes-256-gcm", key, nonce);
    c.setAAD(aad);
    const out = concatBytes(c.update(plaintext), c.final(), c.getAuthTag());
    return out;
  },
  open(key, nonce, sealed, aad) {
    if (sealed.length < TAG_BYTES) throw openFailed();
    const cut = sealed.length - TAG_BYTES;
    let head: Uint8Array | undefined;
    try {
      const d = createDecipheriv("aes-256-gcm", key, nonce);
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(cut));
      head = d.update(sealed.subarray(0, cut));
      return concatBytes(head, d.final());
    } catch {
      throw openFailed();
    } finally {
      if (head) wipe(head);
    }
  },
};

const onNode = localCore({
  aead: nodeAead,
  encryptBlock(key, block) {
    const c = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
    return concatBytes(c.update(block), c.final());
  },
});
export const keyCheckValue = onNode.keyCheckValue;
export const localKeyRef = onNode.localKeyRef;

export const DEFAULT_LOCAL_KEY_FILE = ".sealkit/local.key";

export function defaultLocalKeyFile(cwd = process.cwd()): string {
  return resolve(cwd, process.env.SEALKIT_LOCAL_KEY_FILE || DEFAULT_LOCAL_KEY_FILE);
}

/** Reads a key file, refusing one that others can read. */
export function keyFileSource(file: string): LocalKeySource {
  return async () => {
    let text: string;
    try {
      const st = await stat(file);
      if (process.platform !== "win32" && (st.mode & 0o077) !== 0) {
        throw new SealkitError(
          "E_CONFIG",
          `local key file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}): run \`chmod 600 ${file}\``,
          { details: { file } },
        );
      }
      text = await readFile(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    return parseLocalKey(text, `local key file ${file}`);
  };
}

/** The local provider on Node: env var first, then the key file. */
export function localProvider(options: LocalProviderOptions & { keyFile?: string } = {}): KeyProvider {
  const file = options.keyFile ?? defaultLocalKeyFile();
  const fromFile = keyFileSource(file);
  return onNode.localProvider({
    missingKeyHint: `set SEALKIT_LOCAL_KEY to the base64 of 32 random bytes, or create ${file} with \`sealkit init --provider local\` (or point SEALKIT_LOCAL_KEY_FILE at your key file)`,
    source: async () => (await envKeySource()) ?? (await fromFile()),
    ...options,
  });
}

/**
 * Creates a new key file with mode 0600, refusing to overwrite one (that would lock the
 * user out of every store wrapped under it). Returns the key's reference.
 */
export async function writeLocalKeyFile(file: string): Promise<{ keyRef: string; file: string }> {
  const key = generateLocalKey();
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(file, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new SealkitError("E_CONFIG", `local key file ${file} already exists; refusing to overwrite it`, { details: { file } });
      }
      throw e;
    }
    try {
      await fh.writeFile(`${toBase64(key)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(file, 0o600);
    return { keyRef: localKeyRef(key), file };
  } finally {
    wipe(key);
  }
}

registerProvider(localProvider());
