import { SealkitError, isSealkitError, openFailed } from "@sealkit/envelope";

const PROVIDER = "azure-key-vault";

/** Where DefaultAzureCredential looks, in its order, for the E_CREDENTIALS message. */
export const CREDENTIAL_HINT =
  "DefaultAzureCredential found no credential. It looked for: environment variables " +
  "(AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH), " +
  "workload identity (AZURE_FEDERATED_TOKEN_FILE), managed identity (IDENTITY_ENDPOINT + IDENTITY_HEADER " +
  "on App Service / Functions, or IMDS on VMs), then Visual Studio Code, the Azure CLI (`az login`), " +
  "Azure PowerShell (`Connect-AzAccount`) and the Azure Developer CLI (`azd auth login`). " +
  "AZURE_TOKEN_CREDENTIALS narrows the chain. Enable a managed identity on the function, sign in, or inject a credential";

type Op = "wrap" | "unwrap" | "get";

interface RestLike {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  details?: unknown;
  response?: { headers?: { get?(n: string): string | undefined } };
  errors?: unknown[];
}

function serviceCode(e: RestLike): { code?: string; inner?: string } {
  const d = e.details as { error?: { code?: string; innererror?: { code?: string }; innerError?: { code?: string } } } | undefined;
  const inner = d?.error?.innererror?.code ?? d?.error?.innerError?.code;
  return { ...(e.code ? { code: e.code } : d?.error?.code ? { code: d.error.code } : {}), ...(inner ? { inner } : {}) };
}

function retryAfterMs(e: RestLike): number | undefined {
  const v = e.response?.headers?.get?.("retry-after");
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

const short = (s: unknown) => String(s ?? "").replace(/\s+/g, " ").slice(0, 240);

/**
 * Maps an error of @azure/keyvault-keys, @azure/identity or the HTTP pipeline to a
 * SealkitError with a code the runtime's retry policy understands. Service messages are
 * kept (they name permissions and keys, never key material); bytes never reach here.
 */
export function toSealkitError(err: unknown, op: Op, keyRef: string): SealkitError {
  if (isSealkitError(err)) return err;
  const e = (err ?? {}) as RestLike;
  const details = { provider: PROVIDER, op, keyRef };
  const make = (code: ConstructorParameters<typeof SealkitError>[0], msg: string, extra: Record<string, unknown> = {}) =>
    new SealkitError(code, `azure-key-vault ${op} ${keyRef}: ${msg}`, { cause: err, details: { ...details, ...extra } });

  if (e.name === "AbortError" || e.code === "ABORT_ERR" || e.name === "TimeoutError") {
    return make("E_TIMEOUT", "the call was cancelled (timeout)");
  }
  if (e.name === "CredentialUnavailableError" || e.name === "AggregateAuthenticationError") {
    return make("E_CREDENTIALS", CREDENTIAL_HINT);
  }
  if (e.name === "AuthenticationError" || e.name === "AuthenticationRequiredError") {
    return make("E_CREDENTIALS", `the credential could not get a token: ${short(e.message)}`);
  }
  if (e.name === "RestError" || typeof e.statusCode === "number") {
    const status = e.statusCode;
    const { code, inner } = serviceCode(e);
    const svc = { status, serviceCode: inner ?? code };
    const what = `${status ?? "no response"}${code ? ` ${code}` : ""}${inner ? `/${inner}` : ""}`;
    if (status === undefined) {
      const tls = /certificate|self[- ]signed|UNABLE_TO_VERIFY|CERT_/i.test(`${e.message} ${e.code}`);
      return make(
        "E_UNAVAILABLE",
        tls
          ? `TLS failed: the vault's certificate is not trusted (${short(e.message)})`
          : `the vault could not be reached (${short(e.code ?? e.message)})`,
      );
    }
    if (status === 429) {
      const ms = retryAfterMs(e);
      return make("E_THROTTLED", `throttled by Key Vault (${what})`, { ...svc, ...(ms !== undefined ? { retryAfterMs: ms } : {}) });
    }
    if (status === 401) return make("E_ACCESS_DENIED", `the vault rejected the token (${what}): ${short(e.message)}`, svc);
    if (status === 403) {
      if (inner === "KeyDisabled" || /disabled key/i.test(e.message ?? "")) {
        return make("E_KEY_DISABLED", "the key (version) is disabled", svc);
      }
      const perm = op === "unwrap" ? "unwrapKey" : op === "wrap" ? "wrapKey" : "get";
      return make("E_ACCESS_DENIED", `permission denied (${what}); the caller needs keys ${perm} on this key: ${short(e.message)}`, svc);
    }
    if (status === 404) return make("E_NOT_FOUND", `no such key or key version (${what})`, svc);
    if (status === 400 && op === "unwrap") {
      // The service could not unwrap: wrong key version, tampered bytes. Says nothing more.
      return openFailed({ ...details, ...svc });
    }
    if (status === 408 || status === 504) return make("E_TIMEOUT", `the vault timed out (${what})`, svc);
    if (status >= 500) return make("E_UNAVAILABLE", `the vault failed (${what})`, svc);
    return make(status === 400 ? "E_CONFIG" : "E_PROVIDER", `the vault refused the request (${what}): ${short(e.message)}`, svc);
  }
  if (/challenge/i.test(e.message ?? "")) {
    return make("E_CONFIG", `${short(e.message)} (for Azure Stack or a local emulator set SEALKIT_AZURE_CHALLENGE_RESOURCE_VERIFICATION=off)`);
  }
  return make("E_PROVIDER", `${e.name ?? "Error"}: ${short(e.message)}`);
}
