/**
 * @sealkit/runtime on Node: node:crypto's AES-GCM (faster than noble on Node), and, when a
 * name has no envelope in the bundle (plain `node`, `tsx`, unit tests), a development
 * fallback that reads the store file (SEALKIT_STORE, or sealkit.secrets.json in the cwd).
 */
import { createDecipheriv } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  type Aead,
  encodeEnvelope,
  hasProvider,
  keyRecordOf,
  nobleAead,
  openFailed,
  parseStore,
  storedEnvelope,
} from "@sealkit/envelope";
import { setAead, setFallback } from "./core.js";

export { type SecretName, type SecretNames, dispose, preload, register, secret, secretBytes } from "./core.js";

const nodeAead: Aead = {
  seal: nobleAead.seal,
  open(key, nonce, sealed, aad) {
    if (sealed.length < 16) throw openFailed();
    let head: Buffer | undefined;
    try {
      const d = createDecipheriv("aes-256-gcm", key, nonce);
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      head = d.update(sealed.subarray(0, sealed.length - 16));
      const tail = d.final();
      if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      head.fill(0);
      return out;
    } catch {
      // node:crypto checks the tag only in final(), after update() produced bytes: wipe them
      head?.fill(0);
      throw openFailed();
    }
  },
};
setAead(nodeAead);

setFallback(async (name) => {
  const file = resolve(process.env.SEALKIT_STORE || "sealkit.secrets.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  const store = parseStore(text, file);
  if (!store.secrets[name]) return undefined;
  for (const k of store.keys) {
    if (!hasProvider(k.provider)) {
      try {
        await import(k.provider === "local" ? "@sealkit/envelope/local" : `@sealkit/${k.provider}`);
      } catch {
        // reported by getProvider with a clear E_CONFIG when the unwrap runs
      }
    }
  }
  return { record: keyRecordOf(store), envelope: encodeEnvelope(storedEnvelope(store, name)) };
});
