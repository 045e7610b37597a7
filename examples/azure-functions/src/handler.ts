/**
 * The function, in the shape of the Azure Functions Node.js v4 programming model:
 * `(request, context) => HttpResponseInit`. Its secrets are envelopes in the bundle; the
 * first `secret()` of a cold start makes one Key Vault unwrapKey call for the data key,
 * however many secrets are read. The types are structural, so the example builds without
 * @azure/functions; `src/functions.ts` shows the registration for a real Function App.
 */
import { createHash } from "node:crypto";
import { secret } from "@sealkit/runtime";

export interface HttpResponseInit {
  status: number;
  jsonBody: unknown;
}
interface InvocationContextLike {
  log?(...args: unknown[]): void;
}

/** A short fingerprint, so the demo can show the value arrived without ever showing it. */
const fingerprint = (value: string) => createHash("sha256").update(value).digest("hex").slice(0, 16);

export async function handler(_request: unknown, context?: InvocationContextLike): Promise<HttpResponseInit> {
  try {
    const [password, apiKey] = await Promise.all([secret("db-password"), secret("api-key")]);
    // Use the values here (connect to the database, call the API). Never log or return them.
    return { status: 200, jsonBody: { ok: true, fingerprints: { "db-password": fingerprint(password), "api-key": fingerprint(apiKey) } } };
  } catch (e) {
    // SealkitError messages carry no key material or values; the code says what to fix.
    const code = (e as { code?: string }).code ?? "E_UNEXPECTED";
    context?.log?.(`sealkit: ${code}`);
    return { status: 503, jsonBody: { ok: false, code } };
  }
}
