import { secret, secretBytes } from "@sealkit/runtime";
import { signingKey } from "./keys.js";

/** A plain Node handler (JavaScript, ESM source; the bundle is CommonJS or ESM). */
export async function handler(event = {}) {
  const password = await secret("db-password");
  const key = await signingKey();
  return { ok: true, user: event.user ?? "app", passwordLength: password.length, keyBytes: key.length };
}

/** The values themselves, for the example's end-to-end test. */
export async function config() {
  const bytes = await secretBytes("token");
  return { "db-password": await secret("db-password"), token: new TextDecoder().decode(bytes) };
}
