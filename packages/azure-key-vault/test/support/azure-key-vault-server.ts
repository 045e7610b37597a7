/**
 * A local Azure Key Vault for tests: HTTPS with a self-signed certificate made at start,
 * the Key Vault bearer challenge, and the keys REST surface Sealkit uses (get key, wrapkey,
 * unwrapkey, create, rotate), with real crypto (RSA-OAEP-256 / RSA-OAEP via node:crypto,
 * A256KW via `id-aes256-wrap`) and real version semantics. It also serves an App Service
 * managed-identity token endpoint (`/msi/token`), so a subprocess can use the unmodified
 * `DefaultAzureCredential` with `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`.
 *
 * Faults can be injected: latency, a throttle rate (429 + Retry-After), one-shot failures,
 * disabled keys and per-token permissions (403).
 *
 * Error bodies follow the service: `{ error: { code, message, innererror: { code } } }`.
 */
import { execFileSync } from "node:child_process";
import {
  type KeyObject,
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prng } from "../../../../test/support/prng.js";

export type KeyOp = "get" | "wrapKey" | "unwrapKey" | "create" | "rotate";
export type KeyKind = "RSA" | "RSA-HSM" | "oct-HSM";

export interface ServerOptions {
  /** Added before every answer (challenge included), in ms. */
  latencyMs?: number;
  /** Share of authorized key requests answered 429 with Retry-After. Deterministic (seeded). */
  throttleRate?: number;
  /** Retry-After seconds sent with 429. */
  retryAfterSeconds?: number;
  /** The bearer token the default principal holds. */
  token?: string;
  /** Resource in the challenge (the SDK asks the credential for `<resource>/.default`). */
  resource?: string;
  /** Seed of the throttling sequence. */
  seed?: number;
}

export interface Call {
  method: string;
  /** "challenge" for the unauthenticated first request, "token" for the MSI endpoint. */
  op: KeyOp | "challenge" | "token" | "unknown";
  name?: string;
  version?: string;
  status: number;
}

interface KeyVersion {
  version: string;
  kind: KeyKind;
  enabled: boolean;
  ops: string[];
  created: number;
  rsa?: { privateKey: KeyObject; jwk: { n: string; e: string } };
  aes?: Buffer;
}

export interface Admin {
  /** Creates a key (or a new version of it) and returns its versioned id. */
  createKey(name: string, kind?: KeyKind, opts?: { bits?: number; ops?: string[] }): string;
  /** A new version of an existing key, of the same kind; returns its versioned id. */
  rotateKey(name: string): string;
  disableKey(name: string, version?: string): void;
  enableKey(name: string, version?: string): void;
  latestVersion(name: string): string;
  /** The public key of an RSA key version, as node:crypto sees it (for cross-checks). */
  publicKey(name: string, version?: string): KeyObject;
  /** Decrypts RSA-OAEP-256 bytes with a key version's private key, outside the REST surface (format cross-checks). */
  rsaOaep256Decrypt(name: string, version: string, bytes: Uint8Array): Buffer;
  /** Adds a principal holding `token`, allowed only `ops`. */
  addPrincipal(token: string, ops: KeyOp[]): void;
  /** The next `n` authorized key requests answer `status` (429 adds Retry-After). */
  failNext(n: number, status: number, code?: string): void;
  setThrottleRate(rate: number): void;
  setLatency(ms: number): void;
}

export interface KeyVaultServer {
  /** https://127.0.0.1:<port>, the vault URL. */
  url: string;
  /** The self-signed certificate (PEM): trust it through `tlsOptions.ca` or NODE_EXTRA_CA_CERTS. */
  ca: string;
  /** A file holding `ca`, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** The token of the default principal (allowed everything). */
  token: string;
  /** Env for a subprocess whose DefaultAzureCredential should get tokens from this server. */
  identityEnv: Record<string, string>;
  admin: Admin;
  calls: Call[];
  close(): Promise<void>;
}

const b64u = (b: Buffer) => b.toString("base64url");
const AES_KW_IV = Buffer.from("a6a6a6a6a6a6a6a6", "hex"); // RFC 3394 §2.2.3.1 default IV

function makeCert(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, "tls.key");
  const certFile = join(dir, "tls.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), certFile };
}


export async function startKeyVaultServer(options: ServerOptions = {}): Promise<KeyVaultServer> {
  const dir = mkdtempSync(join(tmpdir(), "sealkit-akv-"));
  const tls = makeCert(dir);
  const token = options.token ?? "sealkit-test-token";
  const resource = options.resource ?? "https://vault.azure.net";
  const identityHeader = randomBytes(12).toString("hex");
  const principals = new Map<string, Set<KeyOp>>([[token, new Set<KeyOp>(["get", "wrapKey", "unwrapKey", "create", "rotate"])]]);
  const keys = new Map<string, KeyVersion[]>();
  const calls: Call[] = [];
  let latencyMs = options.latencyMs ?? 0;
  let throttleRate = options.throttleRate ?? 0;
  const random = prng(options.seed ?? 1);
  const pending: { status: number; code?: string }[] = [];
  let url = "";

  const kid = (name: string, version: string) => `${url}/keys/${name}/${version}`;

  const newVersion = (name: string, kind: KeyKind, bits: number, ops?: string[]): KeyVersion => {
    const version = randomBytes(16).toString("hex");
    const v: KeyVersion = {
      version,
      kind,
      enabled: true,
      created: Math.floor(Date.now() / 1000),
      ops: ops ?? (kind === "oct-HSM" ? ["wrapKey", "unwrapKey", "encrypt", "decrypt"] : ["wrapKey", "unwrapKey", "encrypt", "decrypt", "sign", "verify"]),
    };
    if (kind === "oct-HSM") v.aes = randomBytes(bits / 8);
    else {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
      const jwk = publicKey.export({ format: "jwk" }) as { n: string; e: string };
      v.rsa = { privateKey, jwk: { n: jwk.n, e: jwk.e } };
    }
    const list = keys.get(name) ?? [];
    list.push(v);
    keys.set(name, list);
    return v;
  };

  const find = (name: string, version?: string): KeyVersion | undefined => {
    const list = keys.get(name);
    if (!list?.length) return undefined;
    return version ? list.find((v) => v.version === version) : list[list.length - 1];
  };

  const bundle = (name: string, v: KeyVersion) => ({
    key: {
      kid: kid(name, v.version),
      kty: v.kind,
      key_ops: v.ops,
      ...(v.rsa ? { n: v.rsa.jwk.n, e: v.rsa.jwk.e } : {}),
    },
    attributes: { enabled: v.enabled, created: v.created, updated: v.created, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 },
  });

  const admin: Admin = {
    createKey(name, kind = "RSA-HSM", opts = {}) {
      return kid(name, newVersion(name, kind, opts.bits ?? (kind === "oct-HSM" ? 256 : 2048), opts.ops).version);
    },
    rotateKey(name) {
      const cur = find(name);
      if (!cur) throw new Error(`no key ${name}`);
      const bits = cur.aes ? cur.aes.length * 8 : (cur.rsa?.privateKey.asymmetricKeyDetails?.modulusLength ?? 2048);
      return kid(name, newVersion(name, cur.kind, bits, cur.ops).version);
    },
    disableKey(name, version) {
      const v = find(name, version);
      if (!v) throw new Error(`no key ${name}`);
      v.enabled = false;
    },
    enableKey(name, version) {
      const v = find(name, version);
      if (!v) throw new Error(`no key ${name}`);
      v.enabled = true;
    },
    latestVersion(name) {
      const v = find(name);
      if (!v) throw new Error(`no key ${name}`);
      return v.version;
    },
    publicKey(name, version) {
      const v = find(name, version);
      if (!v?.rsa) throw new Error(`no RSA key ${name}`);
      return createPublicKey(v.rsa.privateKey);
    },
    rsaOaep256Decrypt(name, version, bytes) {
      const v = find(name, version);
      if (!v?.rsa) throw new Error(`no RSA key ${name}/${version}`);
      return privateDecrypt({ key: v.rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, bytes);
    },
    addPrincipal(t, ops) {
      principals.set(t, new Set(ops));
    },
    failNext(n, status, code) {
      for (let i = 0; i < n; i++) pending.push({ status, ...(code ? { code } : {}) });
    },
    setThrottleRate(rate) {
      throttleRate = rate;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "x-ms-request-id": randomBytes(8).toString("hex"),
      ...headers,
    });
    res.end(text);
  };
  const error = (code: string, message: string, inner?: string) => ({
    error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) },
  });

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.on("error", reject);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<Call> => {
    const u = new URL(req.url ?? "/", url);
    const method = req.method ?? "GET";
    const body = await readBody(req);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));

    // App Service managed identity endpoint (what DefaultAzureCredential uses on Azure Functions).
    if (u.pathname === "/msi/token") {
      if (req.headers["x-identity-header"] !== identityHeader) {
        send(res, 401, { error: "invalid_request", error_description: "bad X-IDENTITY-HEADER" });
        return { method, op: "token", status: 401 };
      }
      const expires = Math.floor(Date.now() / 1000) + 3600;
      send(res, 200, { access_token: token, expires_on: String(expires), resource: u.searchParams.get("resource") ?? resource, token_type: "Bearer" });
      return { method, op: "token", status: 200 };
    }

    // /keys/{name}[/{version}][/{action}]
    const parts = u.pathname.split("/").slice(1);
    if (parts[0] !== "keys" || !parts[1]) {
      send(res, 404, error("NotFound", "no such route"));
      return { method, op: "unknown", status: 404 };
    }
    const name = decodeURIComponent(parts[1]);
    let version: string | undefined = parts[2] ? decodeURIComponent(parts[2]) : undefined;
    let action = parts[3];
    if (method === "POST" && (version === "create" || version === "rotate") && parts.length === 3) {
      action = version;
      version = undefined;
    }
    const op: KeyOp =
      action === "wrapkey" ? "wrapKey" : action === "unwrapkey" ? "unwrapKey" : action === "create" ? "create" : action === "rotate" ? "rotate" : "get";
    const call: Call = { method, op, name, ...(version ? { version } : {}), status: 0 };

    // Challenge authentication: an anonymous request learns the authority and resource.
    const auth = req.headers.authorization;
    if (!auth?.startsWith("Bearer ")) {
      send(res, 401, error("Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."), {
        "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="${resource}"`,
      });
      return { ...call, op: "challenge", status: 401 };
    }
    const allowed = principals.get(auth.slice(7));
    if (!allowed) {
      send(res, 401, error("Unauthorized", "AKV10032: Invalid issuer or token."));
      return { ...call, status: 401 };
    }
    const injected = pending.shift() ?? (throttleRate > 0 && random() < throttleRate ? { status: 429 } : undefined);
    if (injected) {
      if (injected.status === 429) {
        send(res, 429, error("Throttled", "Rate limit is exceeded. Try again in 1 seconds."), {
          "retry-after": String(options.retryAfterSeconds ?? 1),
        });
      } else {
        send(res, injected.status, error(injected.code ?? "InternalError", "injected failure"));
      }
      return { ...call, status: injected.status };
    }
    if (!allowed.has(op)) {
      const perm = { get: "get", wrapKey: "wrapKey", unwrapKey: "unwrapKey", create: "create", rotate: "rotate" }[op];
      send(
        res,
        403,
        error(
          "Forbidden",
          `The user, group or application 'appid=sealkit-test;oid=00000000-0000-0000-0000-000000000000' does not have keys ${perm} permission on key vault 'local'.`,
          "ForbiddenByPolicy",
        ),
      );
      return { ...call, status: 403 };
    }

    if (op === "create" || op === "rotate") {
      const p = body ? (JSON.parse(body) as { kty?: KeyKind; key_size?: number; key_ops?: string[] }) : {};
      let v: KeyVersion;
      if (op === "rotate") {
        const cur = find(name);
        if (!cur) {
          send(res, 404, error("KeyNotFound", `A key with (name/id) ${name} was not found in this key vault.`));
          return { ...call, status: 404 };
        }
        v = find(name, kid(name, admin.rotateKey(name)).split("/").pop()) as KeyVersion;
      } else {
        v = newVersion(name, p.kty ?? "RSA", p.key_size ?? (p.kty === "oct-HSM" ? 256 : 2048), p.key_ops);
      }
      send(res, 200, bundle(name, v));
      return { ...call, status: 200 };
    }

    const v = find(name, version);
    if (!v) {
      const id = version ? `${name}/${version}` : name;
      send(res, 404, error("KeyNotFound", `A key with (name/id) ${id} was not found in this key vault.`));
      return { ...call, status: 404 };
    }
    if (op === "get") {
      send(res, 200, bundle(name, v));
      return { ...call, status: 200 };
    }
    if (method !== "POST" || (op !== "wrapKey" && op !== "unwrapKey")) {
      send(res, 405, error("MethodNotAllowed", "method not allowed"));
      return { ...call, status: 405 };
    }
    // The service refuses unwrap (not wrap) on a disabled key; both here, as Sealkit never
    // wraps remotely under a disabled key either.
    if (!v.enabled) {
      send(res, 403, error("Forbidden", `Operation ${op} is not allowed on a disabled key.`, "KeyDisabled"));
      return { ...call, status: 403 };
    }
    if (!v.ops.includes(op)) {
      send(res, 403, error("Forbidden", `Operation ${op} is not permitted on this key.`, "KeyOperationForbidden"));
      return { ...call, status: 403 };
    }
    let params: { alg?: string; value?: string };
    try {
      params = JSON.parse(body);
    } catch {
      send(res, 400, error("BadParameter", "The request body is not valid JSON."));
      return { ...call, status: 400 };
    }
    const input = Buffer.from(params.value ?? "", "base64url");
    try {
      let out: Buffer;
      if (v.rsa && (params.alg === "RSA-OAEP-256" || params.alg === "RSA-OAEP")) {
        const oaepHash = params.alg === "RSA-OAEP-256" ? "sha256" : "sha1";
        const padding = constants.RSA_PKCS1_OAEP_PADDING;
        out =
          op === "wrapKey"
            ? publicEncrypt({ key: createPublicKey(v.rsa.privateKey), padding, oaepHash }, input)
            : privateDecrypt({ key: v.rsa.privateKey, padding, oaepHash }, input);
      } else if (v.aes && params.alg === "A256KW" && v.aes.length === 32) {
        const c =
          op === "wrapKey" ? createCipheriv("id-aes256-wrap", v.aes, AES_KW_IV) : createDecipheriv("id-aes256-wrap", v.aes, AES_KW_IV);
        out = Buffer.concat([c.update(input), c.final()]);
      } else {
        send(res, 400, error("BadParameter", `Algorithm ${params.alg} is not supported for key type ${v.kind}.`));
        return { ...call, status: 400 };
      }
      send(res, 200, { kid: kid(name, v.version), value: b64u(out) });
      return { ...call, status: 200 };
    } catch {
      send(res, 400, error("BadParameter", "The parameter is incorrect."));
      return { ...call, status: 400 };
    }
  };

  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    handle(req, res).then(
      (c) => calls.push(c),
      () => {
        if (!res.headersSent) send(res, 500, error("InternalError", "test server failure"));
        calls.push({ method: req.method ?? "GET", op: "unknown", status: 500 });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    ca: tls.cert,
    caFile: tls.certFile,
    token,
    identityEnv: {
      NODE_EXTRA_CA_CERTS: tls.certFile,
      IDENTITY_ENDPOINT: `${url}/msi/token`,
      IDENTITY_HEADER: identityHeader,
      // Only the managed identity: no `az`/`azd`/PowerShell probes, no IMDS.
      AZURE_TOKEN_CREDENTIALS: "ManagedIdentityCredential",
    },
    admin,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
