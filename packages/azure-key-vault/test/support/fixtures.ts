import type { KeyProvider } from "@sealkit/envelope";
import { SealkitError } from "@sealkit/envelope";
import { expect } from "vitest";
import { type AzureKeyVaultProviderOptions, type TokenCredential, createAzureKeyVaultProvider } from "@sealkit/azure-key-vault";
import type { KeyVaultServer } from "./azure-key-vault-server.js";

/** A fake TokenCredential handing out a fixed token; counts its calls. */
export function fakeCredential(token: string): TokenCredential & { calls: number } {
  const c = {
    calls: 0,
    async getToken() {
      c.calls++;
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return c;
}

/** The provider pointed at the local server: its certificate trusted, the challenge resource not checked. */
export function providerFor(
  server: KeyVaultServer,
  opts: { token?: string } & AzureKeyVaultProviderOptions = {},
): KeyProvider & ReturnType<typeof createAzureKeyVaultProvider> {
  const { token, ...rest } = opts;
  return createAzureKeyVaultProvider({
    credential: rest.credential ?? fakeCredential(token ?? server.token),
    ...rest,
    clientOptions: { tlsOptions: { ca: server.ca }, disableChallengeResourceVerification: true, ...rest.clientOptions },
  });
}

export async function rejection(p: Promise<unknown>): Promise<SealkitError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SealkitError);
    return e as SealkitError;
  }
  throw new Error("expected a rejection");
}
