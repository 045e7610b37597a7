// How the frozen vectors in this folder were made (run once, on 2026-12-03, with the v1
// code). Do NOT re-run to "fix" a failing vector test: the vectors are frozen so that
// every later format version must still open them. Run: node test/vectors/make-vectors.mjs OUT_DIR
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  contextAad,
  encodeEnvelope,
  encodeKeyRecord,
  keyRecordOf,
  nobleAead,
  sealValue,
  serializeStore,
  storedSecret,
  toBase64,
  wrapContext,
} from "../../packages/envelope/dist/index.js";
import { localKeyRef } from "../../packages/envelope/dist/local.js";

const out = process.argv[2] ?? ".";
const hex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const masterKey = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const dataKey = hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
const storeId = "VkVDVE9SLVNUT1JFLTAx";
const generation = 3;
const values = {
  "db-password": "correct-horse-battery-staple",
  empty: "",
  "unicode.name": "pässwörd 🔑 秘密",
  binary_key: Buffer.from("00ff10ef7f80", "hex"),
};

const envelopes = Object.entries(values).map(([name, v]) => {
  const env = sealValue(dataKey, { storeId, generation, name }, typeof v === "string" ? v : new Uint8Array(v));
  return {
    name,
    envelope: encodeEnvelope(env),
    plaintextHex: Buffer.from(typeof v === "string" ? Buffer.from(v, "utf8") : v).toString("hex"),
  };
});
writeFileSync(
  join(out, "v1-envelopes.json"),
  `${JSON.stringify({ description: "compact v1 envelopes under dataKey", dataKeyHex: Buffer.from(dataKey).toString("hex"), storeId, generation, envelopes }, null, 2)}\n`,
);

// The local provider's wrap: nonce || AES-256-GCM(masterKey, nonce, dataKey, AAD = contextAad(context)).
const context = wrapContext(storeId, generation);
const nonce = hex("0c0d0e0f1011121314151617");
const wrapped = new Uint8Array([...nonce, ...nobleAead.seal(masterKey, nonce, dataKey, contextAad(context))]);
const t = "2026-12-03T00:00:00.000Z";
const store = {
  version: 1,
  storeId,
  generation,
  createdAt: t,
  dataKeyCreatedAt: t,
  keys: [{ provider: "local", keyRef: localKeyRef(masterKey), wrapped: toBase64(wrapped), context, createdAt: t }],
  secrets: Object.fromEntries(
    envelopes.map(({ name, envelope }) => {
      const [, , , , , n, c] = envelope.split(":");
      const b = (s) => Uint8Array.from(Buffer.from(s, "base64url"));
      return [name, storedSecret({ nonce: b(n), sealed: b(c) }, t)];
    }),
  ),
};
writeFileSync(join(out, "v1-store.secrets.json"), serializeStore(store));
writeFileSync(
  join(out, "v1-local.json"),
  `${JSON.stringify(
    {
      description: "local provider master key for v1-store.secrets.json, and the store's data-key record",
      masterKeyBase64: toBase64(masterKey),
      keyRef: localKeyRef(masterKey),
      keyRecord: encodeKeyRecord(keyRecordOf(store)),
      dataKeyHex: Buffer.from(dataKey).toString("hex"),
    },
    null,
    2,
  )}\n`,
);
