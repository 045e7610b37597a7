/**
 * The function: a Cloud Run / Cloud Functions (Functions Framework) HTTP handler. Its
 * secrets are envelopes in the bundle; the first `secret()` of a cold start makes one Cloud
 * KMS Decrypt for the data key, however many secrets are read.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { secret } from "@sealkit/runtime";

/** A short fingerprint, so the demo can show the value arrived without ever showing it. */
const fingerprint = (value: string) => createHash("sha256").update(value).digest("hex").slice(0, 16);

export async function handler(_req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const [password, apiKey] = await Promise.all([secret("db-password"), secret("api-key")]);
    // Use the values here (connect to the database, call the API). Never log or return them.
    const body = JSON.stringify({ ok: true, fingerprints: { "db-password": fingerprint(password), "api-key": fingerprint(apiKey) } });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  } catch (e) {
    // SealkitError messages carry no key material or values; the code says what to fix.
    const code = (e as { code?: string }).code ?? "E_UNEXPECTED";
    res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ ok: false, code }));
  }
}
