import { randomBytes } from "node:crypto";
import { KeyManagementServiceClient } from "@google-cloud/kms";
import { type WrapContext, wrapContext } from "@sealkit/envelope";
import { OAuth2Client } from "google-auth-library";
import type { GcpKmsServer } from "../../../test/support/gcp-kms-server.js";
import type { KmsClientLike } from "../src/types.js";

export { startGcpKmsServer } from "../../../test/support/gcp-kms-server.js";

/** An OAuth2 client holding a fake, unexpired access token (the local server takes any). */
export function fakeAuth(token = "fake-token"): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return auth;
}

/** The real SDK client, over REST, pointed at the local server. */
export function realClient(server: GcpKmsServer, auth: OAuth2Client = fakeAuth()): KmsClientLike {
  return new KeyManagementServiceClient({
    fallback: true,
    protocol: "http",
    apiEndpoint: "127.0.0.1",
    port: server.port,
    authClient: auth,
  }) as unknown as KmsClientLike;
}

let n = 0;
/** A fresh key name (and the key, created on the server). */
export function newKey(server: GcpKmsServer, opts?: Parameters<GcpKmsServer["admin"]["createKey"]>[1]): string {
  n += 1;
  return server.admin.createKey(`projects/sealkit-test/locations/europe-west1/keyRings/ring/cryptoKeys/key-${process.pid}-${n}`, opts);
}

export const dataKey = (): Uint8Array => new Uint8Array(randomBytes(32));
export const ctx = (storeId = "st_gcp_test_0001", generation = 1): WrapContext => wrapContext(storeId, generation);
