import { secret } from "@sealkit/runtime";

/** A Worker-style module: `fetch(request)` answers with data signed by a secret. */
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const key = await secret("api-key");
    const data = new TextEncoder().encode(url.pathname);
    const hmac = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, data));
    const hex = Array.from(sig, (b) => b.toString(16).padStart(2, "0")).join("");
    return Response.json({ path: url.pathname, signature: hex });
  },
};

/** The values themselves, for the example's end-to-end test. */
export async function config(): Promise<Record<string, string>> {
  return { "api-key": await secret("api-key"), token: await secret("token") };
}
