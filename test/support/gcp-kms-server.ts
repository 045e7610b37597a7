/**
 * A local Cloud KMS for tests: speaks the REST (HTTP/1.1 + JSON) surface that
 * `KeyManagementServiceClient` uses with `fallback: true`, for the methods Sealkit calls
 * (GetCryptoKey, Encrypt, Decrypt). Real AES-256-GCM per key version, the AAD enforced,
 * a primary version, disabled and destroyed versions, CRC32C checks on requests, and on
 * demand: throttling, latency, failures, denied keys and corrupted checksums.
 *
 * It keeps no plaintext: only key bytes of its own versions, in memory, for its lifetime.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { prng } from "./prng.js";

export type VersionState = "ENABLED" | "DISABLED" | "DESTROYED" | "DESTROY_SCHEDULED";
export type Purpose = "ENCRYPT_DECRYPT" | "ASYMMETRIC_SIGN" | "ASYMMETRIC_DECRYPT" | "MAC";
export type ProtectionLevel = "SOFTWARE" | "HSM";

/** What a response's checksum corruption damages: the checksum, or the data under it. */
export type Corruption = "checksum" | "data" | "unverified";
/** Injected failures: a google.rpc status, a dropped connection, or a non-JSON 502. */
export type Failure = "UNAVAILABLE" | "INTERNAL" | "DEADLINE_EXCEEDED" | "reset" | "html502";

export interface GcpKmsServerOptions {
  /** Delay before every answer, ms. */
  latencyMs?: number;
  /** Share of requests answered 429 RESOURCE_EXHAUSTED (0..1), decided by a seeded PRNG. */
  throttleRate?: number;
  /** Corrupt the checksum (or the data) of every encrypt/decrypt response. */
  corruptCrc?: boolean | Corruption;
  /** Seed of the PRNG behind `throttleRate`. */
  seed?: number;
  /** Answer 401 when a request has no bearer token (default true). */
  requireAuth?: boolean;
}

export interface GcpKmsCall {
  method: "getCryptoKey" | "encrypt" | "decrypt" | "unknown";
  /** The resource name in the URL. */
  name: string;
  /** HTTP status answered (0 when the connection was dropped). */
  status: number;
  /** google.rpc status name of an error answer. */
  error?: string;
  /** The version used by a successful encrypt or decrypt. */
  version?: string;
  /** Who called: the JWT `sub`/`iss` of the bearer token, or "token", or "" when absent. */
  principal: string;
}

export interface GcpKmsAdmin {
  /** Creates a key with version 1 as primary. Returns the key name. */
  createKey(name: string, opts?: { purpose?: Purpose; protectionLevel?: ProtectionLevel }): string;
  /** Adds a version (enabled); `primary: true` makes it the primary. Returns the version name. */
  addVersion(keyName: string, opts?: { primary?: boolean }): string;
  setPrimary(versionName: string): void;
  disableVersion(versionName: string): void;
  enableVersion(versionName: string): void;
  destroyVersion(versionName: string): void;
  /** Denies every call on a key (403), or only a principal's. */
  deny(keyName: string, principal?: string): void;
  allow(keyName: string): void;
  throttleNext(n: number): void;
  failNext(n: number, failure?: Failure): void;
  corruptNext(n: number, how?: Corruption): void;
  setLatency(ms: number): void;
  /** Answers 401 UNAUTHENTICATED to this bearer token from now on. */
  revokeToken(token: string): void;
  setThrottleRate(rate: number): void;
  primaryOf(keyName: string): string;
}

export interface GcpKmsServer {
  endpoint: string;
  port: number;
  admin: GcpKmsAdmin;
  calls: GcpKmsCall[];
  close(): Promise<void>;
}

interface Version {
  id: number;
  key: Buffer;
  state: VersionState;
}
interface CryptoKey {
  name: string;
  purpose: Purpose;
  protectionLevel: ProtectionLevel;
  versions: Map<number, Version>;
  primary: number | undefined;
  nextId: number;
}

const STATE_NUM: Record<VersionState, number> = { ENABLED: 1, DISABLED: 2, DESTROYED: 3, DESTROY_SCHEDULED: 4 };
const PURPOSE_NUM: Record<Purpose, number> = { ENCRYPT_DECRYPT: 1, ASYMMETRIC_SIGN: 5, ASYMMETRIC_DECRYPT: 6, MAC: 9 };
const LEVEL_NUM: Record<ProtectionLevel, number> = { SOFTWARE: 1, HSM: 2 };
const HTTP_OF: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), written here independently of the
// package under test so each side checks the other.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class RpcError extends Error {
  constructor(
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

const KEY_RE = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
const VERSION_RE = /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/(\d+)$/;


function principalOf(auth: string | undefined): string {
  const m = /^Bearer (.+)$/.exec(auth ?? "");
  if (!m) return "";
  const parts = (m[1] as string).split(".");
  if (parts.length === 3) {
    try {
      const payload = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8")) as { sub?: string; iss?: string };
      return payload.sub ?? payload.iss ?? "token";
    } catch {
      return "token";
    }
  }
  return "token";
}

export async function startGcpKmsServer(options: GcpKmsServerOptions = {}): Promise<GcpKmsServer> {
  const keys = new Map<string, CryptoKey>();
  const denied = new Map<string, Set<string>>(); // key -> principals ("*" = all)
  const calls: GcpKmsCall[] = [];
  const rand = prng(options.seed ?? 1);
  let latencyMs = options.latencyMs ?? 0;
  let throttleRate = options.throttleRate ?? 0;
  let throttle = 0;
  const failures: Failure[] = [];
  const corruptions: Corruption[] = [];
  const always: Corruption | undefined = options.corruptCrc === true ? "checksum" : options.corruptCrc || undefined;
  const sockets = new Set<Socket>();
  const revoked = new Set<string>();

  const keyOf = (name: string): CryptoKey => {
    const k = keys.get(name);
    if (!k) throw new RpcError("NOT_FOUND", `CryptoKey ${name} not found.`);
    return k;
  };
  const versionOf = (versionName: string): [CryptoKey, Version] => {
    const m = VERSION_RE.exec(versionName);
    if (!m) throw new Error(`not a version name: ${versionName}`);
    const k = keyOf(m[1] as string);
    const v = k.versions.get(Number(m[2]));
    if (!v) throw new RpcError("NOT_FOUND", `CryptoKeyVersion ${versionName} not found.`);
    return [k, v];
  };
  const vname = (k: CryptoKey, id: number) => `${k.name}/cryptoKeyVersions/${id}`;
  const newVersion = (k: CryptoKey): Version => {
    const v: Version = { id: k.nextId++, key: randomBytes(32), state: "ENABLED" };
    k.versions.set(v.id, v);
    return v;
  };
  const setState = (versionName: string, state: VersionState) => {
    const [, v] = versionOf(versionName);
    v.state = state;
    if (state === "DESTROYED") v.key.fill(0);
  };

  const admin: GcpKmsAdmin = {
    createKey(name, opts = {}) {
      if (!KEY_RE.test(name)) throw new Error(`not a key name: ${name}`);
      const k: CryptoKey = {
        name,
        purpose: opts.purpose ?? "ENCRYPT_DECRYPT",
        protectionLevel: opts.protectionLevel ?? "HSM",
        versions: new Map(),
        primary: undefined,
        nextId: 1,
      };
      keys.set(name, k);
      if (k.purpose === "ENCRYPT_DECRYPT") k.primary = newVersion(k).id;
      else newVersion(k);
      return name;
    },
    addVersion(keyName, opts = {}) {
      const k = keyOf(keyName);
      const v = newVersion(k);
      if (opts.primary) k.primary = v.id;
      return vname(k, v.id);
    },
    setPrimary(versionName) {
      const [k, v] = versionOf(versionName);
      k.primary = v.id;
    },
    disableVersion: (n) => setState(n, "DISABLED"),
    enableVersion: (n) => setState(n, "ENABLED"),
    destroyVersion: (n) => setState(n, "DESTROYED"),
    deny(keyName, principal = "*") {
      const set = denied.get(keyName) ?? new Set();
      set.add(principal);
      denied.set(keyName, set);
    },
    allow: (keyName) => void denied.delete(keyName),
    throttleNext: (n) => void (throttle += n),
    failNext(n, failure = "UNAVAILABLE") {
      for (let i = 0; i < n; i++) failures.push(failure);
    },
    corruptNext(n, how = "checksum") {
      for (let i = 0; i < n; i++) corruptions.push(how);
    },
    setLatency: (ms) => void (latencyMs = ms),
    revokeToken: (t) => void revoked.add(t),
    setThrottleRate: (r) => void (throttleRate = r),
    primaryOf(keyName) {
      const k = keyOf(keyName);
      if (k.primary === undefined) throw new Error("no primary");
      return vname(k, k.primary);
    },
  };

  const bytesField = (body: Record<string, unknown>, field: string): Buffer => {
    const v = body[field];
    if (v === undefined || v === null) return Buffer.alloc(0);
    if (typeof v !== "string") throw new RpcError("INVALID_ARGUMENT", `Invalid value at '${field}'.`);
    return Buffer.from(v, "base64");
  };
  /** Checks an optional request checksum (an int64 wrapper: a JSON string or number). */
  const checkCrc = (body: Record<string, unknown>, field: string, data: Buffer, crcField: string): boolean => {
    const v = body[crcField];
    if (v === undefined || v === null) return false;
    if (Number(v) !== crc32c(data)) {
      throw new RpcError(
        "INVALID_ARGUMENT",
        `The checksum in field ${crcField.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} did not match the data in field ${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}.`,
      );
    }
    return true;
  };
  const gcmAad = (k: CryptoKey, aad: Buffer) => Buffer.concat([Buffer.from(k.name, "utf8"), Buffer.from([0]), aad]);
  const usable = (k: CryptoKey, v: Version) => {
    if (v.state !== "ENABLED") {
      throw new RpcError("FAILED_PRECONDITION", `${vname(k, v.id)} is not enabled, current state is: ${v.state}.`);
    }
  };

  const getCryptoKey = (name: string) => {
    const k = keyOf(name);
    const primary = k.primary === undefined ? undefined : k.versions.get(k.primary);
    return {
      name: k.name,
      purpose: PURPOSE_NUM[k.purpose],
      ...(primary
        ? {
            primary: {
              name: vname(k, primary.id),
              state: STATE_NUM[primary.state],
              protectionLevel: LEVEL_NUM[k.protectionLevel],
              algorithm: 1,
            },
          }
        : {}),
      versionTemplate: { protectionLevel: LEVEL_NUM[k.protectionLevel], algorithm: 1 },
    };
  };

  const encrypt = (name: string, body: Record<string, unknown>, call: GcpKmsCall) => {
    const vm = VERSION_RE.exec(name);
    const k = keyOf(vm ? (vm[1] as string) : name);
    if (k.purpose !== "ENCRYPT_DECRYPT") throw new RpcError("FAILED_PRECONDITION", `${k.name} has purpose ${k.purpose}, not ENCRYPT_DECRYPT.`);
    const id = vm ? Number(vm[2]) : k.primary;
    const v = id === undefined ? undefined : k.versions.get(id);
    if (!v) throw new RpcError("NOT_FOUND", `CryptoKeyVersion ${name} not found.`);
    usable(k, v);
    const plaintext = bytesField(body, "plaintext");
    const aad = bytesField(body, "additionalAuthenticatedData");
    const verifiedPlaintext = checkCrc(body, "plaintext", plaintext, "plaintextCrc32c");
    const verifiedAad = checkCrc(body, "additionalAuthenticatedData", aad, "additionalAuthenticatedDataCrc32c");
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", v.key, nonce);
    cipher.setAAD(gcmAad(k, aad));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(v.id);
    const ciphertext = Buffer.concat([header, nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    plaintext.fill(0);
    call.version = vname(k, v.id);
    return {
      name: vname(k, v.id),
      ciphertext: ciphertext.toString("base64"),
      ciphertextCrc32c: String(crc32c(ciphertext)),
      verifiedPlaintextCrc32c: verifiedPlaintext,
      verifiedAdditionalAuthenticatedDataCrc32c: verifiedAad,
      protectionLevel: LEVEL_NUM[k.protectionLevel],
    };
  };

  const decrypt = (name: string, body: Record<string, unknown>, call: GcpKmsCall) => {
    const k = keyOf(name);
    if (k.purpose !== "ENCRYPT_DECRYPT") throw new RpcError("FAILED_PRECONDITION", `${k.name} has purpose ${k.purpose}, not ENCRYPT_DECRYPT.`);
    const ciphertext = bytesField(body, "ciphertext");
    const aad = bytesField(body, "additionalAuthenticatedData");
    checkCrc(body, "ciphertext", ciphertext, "ciphertextCrc32c");
    checkCrc(body, "additionalAuthenticatedData", aad, "additionalAuthenticatedDataCrc32c");
    const invalid = () => new RpcError("INVALID_ARGUMENT", "Decryption failed: the ciphertext is invalid.");
    if (ciphertext.length < 4 + 12 + 16) throw invalid();
    const v = k.versions.get(ciphertext.readUInt32BE(0));
    if (!v) throw invalid();
    usable(k, v);
    const decipher = createDecipheriv("aes-256-gcm", v.key, ciphertext.subarray(4, 16));
    decipher.setAAD(gcmAad(k, aad));
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(ciphertext.subarray(16, ciphertext.length - 16)), decipher.final()]);
    } catch {
      throw invalid();
    }
    call.version = vname(k, v.id);
    const out = {
      plaintext: plaintext.toString("base64"),
      plaintextCrc32c: String(crc32c(plaintext)),
      usedPrimary: v.id === k.primary,
      protectionLevel: LEVEL_NUM[k.protectionLevel],
    };
    plaintext.fill(0);
    return out;
  };

  const corrupt = (res: Record<string, unknown>, how: Corruption) => {
    const field = "ciphertext" in res ? "ciphertext" : "plaintext";
    if (how === "unverified") {
      res.verifiedPlaintextCrc32c = false;
      return;
    }
    if (how === "checksum") {
      res[`${field}Crc32c`] = String((Number(res[`${field}Crc32c`]) ^ 1) >>> 0);
      return;
    }
    const data = Buffer.from(res[field] as string, "base64");
    data[data.length - 1] = (data[data.length - 1] as number) ^ 0x01;
    res[field] = data.toString("base64");
    data.fill(0);
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const sendError = (res: ServerResponse, call: GcpKmsCall, status: string, message: string) => {
    const http = HTTP_OF[status] ?? 500;
    call.status = http;
    call.error = status;
    send(res, http, { error: { code: http, message, status } });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = decodeURIComponent(url.pathname);
    const m = /^\/v1\/(.+?)(?::(encrypt|decrypt))?$/.exec(path);
    const method: GcpKmsCall["method"] = !m ? "unknown" : m[2] === "encrypt" ? "encrypt" : m[2] === "decrypt" ? "decrypt" : req.method === "GET" ? "getCryptoKey" : "unknown";
    const call: GcpKmsCall = { method, name: m?.[1] ?? path, status: 0, principal: principalOf(req.headers.authorization) };
    calls.push(call);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    const failure = failures.shift();
    if (failure === "reset") {
      req.socket.destroy();
      return;
    }
    if (failure === "html502") {
      call.status = 502;
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html><body>502 Bad Gateway</body></html>");
      return;
    }
    if (failure) return sendError(res, call, failure, `Injected ${failure}.`);
    if ((options.requireAuth ?? true) && !call.principal) {
      return sendError(res, call, "UNAUTHENTICATED", "Request is missing required authentication credential.");
    }
    if (revoked.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) {
      return sendError(res, call, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.");
    }
    if (throttle > 0 || (throttleRate > 0 && rand() < throttleRate)) {
      if (throttle > 0) throttle--;
      return sendError(res, call, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Cryptographic requests' and limit 'Cryptographic requests per minute'.");
    }
    try {
      if (!m || method === "unknown") throw new RpcError("NOT_FOUND", `No route for ${req.method} ${url.pathname}.`);
      const name = m[1] as string;
      const keyName = VERSION_RE.exec(name)?.[1] ?? name;
      const deny = denied.get(keyName);
      if (deny && (deny.has("*") || deny.has(call.principal))) {
        const perm = method === "encrypt" ? "useToEncrypt" : method === "decrypt" ? "useToDecrypt" : "get";
        throw new RpcError(
          "PERMISSION_DENIED",
          `Permission 'cloudkms.${method === "getCryptoKey" ? "cryptoKeys" : "cryptoKeyVersions"}.${perm}' denied on resource '${keyName}' (or it may not exist).`,
        );
      }
      if (method === "getCryptoKey") return send(res, (call.status = 200), getCryptoKey(name));
      let body: Record<string, unknown>;
      try {
        body = raw.length ? (JSON.parse(raw.toString("utf8")) as Record<string, unknown>) : {};
      } catch {
        throw new RpcError("INVALID_ARGUMENT", "Invalid JSON payload received.");
      }
      const out: Record<string, unknown> = method === "encrypt" ? encrypt(name, body, call) : decrypt(name, body, call);
      const how = corruptions.shift() ?? always;
      if (how) corrupt(out, how);
      send(res, (call.status = 200), out);
    } catch (e) {
      if (e instanceof RpcError) return sendError(res, call, e.status, e.message);
      sendError(res, call, "INTERNAL", "Internal error.");
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    admin,
    calls,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const k of keys.values()) for (const v of k.versions.values()) v.key.fill(0);
    },
  };
}
