/**
 * A local AWS KMS (and a sliver of Secrets Manager) speaking the AWS JSON 1.1 wire protocol
 * (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: TrentService.<Op>`),
 * well enough for the real `KMSClient` pointed at it with an endpoint override and fake
 * credentials. Used by the aws-kms tests, the e2e tests, the benchmarks and the reliability
 * suite, so it has no test-framework imports.
 *
 * - Real cryptography: AES-256-GCM under per-key, per-version 32-byte key material; the
 *   encryption context (sorted, canonical JSON) is the AAD, so a wrong context fails.
 * - The ciphertext blob names its key and key version (as real blobs do), so Decrypt needs
 *   no KeyId, rotated keys still open old blobs, and a pinned KeyId that does not match is
 *   `IncorrectKeyException`.
 * - Region comes from the SigV4 credential scope of the `Authorization` header; a key in
 *   another region is `NotFoundException`, as from a real regional endpoint. One server can
 *   therefore play several regions, and one region can be taken down (`setRegionDown`).
 * - Faults on demand: disabled keys, access denied, throttling (a rate and/or a quota in
 *   requests per second), added latency, 5xx, connection resets and requests never answered.
 * - Errors are AWS-shaped (`{"__type": "...", "message": "..."}` with the right status), so
 *   the SDK raises the matching modeled exception classes.
 *
 * Plaintext and key material are never logged; `requests` records operation, region, key
 * and outcome only. Reference: AWS KMS API Reference (Encrypt, Decrypt, ReEncrypt,
 * GenerateDataKey, DescribeKey, "Common Errors").
 */
import { createCipheriv, createDecipheriv, createHmac, createHash, randomBytes, randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { prng } from "./prng.js";

export const ACCOUNT = "111122223333";
const BLOB_MAGIC = 0x5a;

export interface KmsServerOptions {
  /** Added to every response, in ms (the simulated round trip). Default 0. */
  latencyMs?: number;
  /** Fraction of KMS calls answered with ThrottlingException (0..1). Default 0. */
  throttleRate?: number;
  /** Requests per second accepted before ThrottlingException (a 1 s fixed window). Default unlimited. */
  quotaRps?: number;
  /** Seed of the throttling decisions, for reproducible runs. Default 1. */
  seed?: number;
  /** Regions the server plays; keys are created in the first unless told. Default us-east-1, eu-west-1. */
  regions?: string[];
  /** Secret access keys by access key id: when given, SigV4 signatures are verified. */
  credentials?: Record<string, string>;
  /** Secrets Manager: secret name -> SecretString. */
  secrets?: Record<string, string>;
}

export interface KeyInfo {
  keyId: string;
  arn: string;
  region: string;
  multiRegion: boolean;
}

/** `hang`: the request is read and never answered (the socket stays open until the client gives up or the server closes). */
export type FaultKind = "ThrottlingException" | "KMSInternalException" | "DependencyTimeoutException" | "reset" | "http503" | "hang";

export interface KmsServer {
  url: string;
  port: number;
  /** Calls per operation (`Decrypt`, `Encrypt`, ..., `GetSecretValue`), counting failed ones. */
  calls: Record<string, number>;
  /** One line per request: no plaintext, no key material. */
  requests: { op: string; region: string; keyId?: string; error?: string; client: "sdk" | "other" }[];
  createKey(opts?: { region?: string; multiRegion?: boolean; description?: string }): KeyInfo;
  /** A replica of a multi-Region key in another region: same key id and key material. */
  replicateKey(keyId: string, region: string): KeyInfo;
  createAlias(aliasName: string, keyIdOrArn: string): string;
  /** New key material; old versions still decrypt. */
  rotateKey(keyIdOrArn: string): number;
  disableKey(keyIdOrArn: string): void;
  enableKey(keyIdOrArn: string): void;
  scheduleKeyDeletion(keyIdOrArn: string): void;
  /** AccessDenied on this key, for these operations (all if omitted); `false` lifts it. */
  setAccessDenied(keyIdOrArn: string, denied: boolean | string[]): void;
  setThrottle(opts: { rate?: number; quotaRps?: number }): void;
  setLatency(ms: number): void;
  /** Every request signed for this region fails with a connection reset (or the given fault). */
  setRegionDown(region: string, down: boolean | FaultKind): void;
  /** The next `count` KMS calls fail with `kind`. */
  failNext(kind: FaultKind, count?: number): void;
  setSecret(name: string, value: string): void;
  resetCounters(): void;
  close(): Promise<void>;
}

interface Key {
  keyId: string;
  region: string;
  multiRegion: boolean;
  description: string;
  versions: Buffer[];
  state: "Enabled" | "Disabled" | "PendingDeletion";
  denied: boolean | Set<string>;
  created: number;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const arnOf = (region: string, keyId: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/${keyId}`;

/** Canonical bytes of an encryption context: sorted [key, value] pairs as JSON. */
function contextAad(ctx: unknown): Buffer {
  if (ctx === undefined || ctx === null) return Buffer.alloc(0);
  if (typeof ctx !== "object" || Array.isArray(ctx)) throw new KmsError("ValidationException", "EncryptionContext must be a map");
  const entries = Object.entries(ctx as Record<string, unknown>);
  for (const [, v] of entries) if (typeof v !== "string") throw new KmsError("ValidationException", "EncryptionContext values must be strings");
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries));
}


export async function startKmsServer(options: KmsServerOptions = {}): Promise<KmsServer> {
  const regions = options.regions ?? ["us-east-1", "eu-west-1"];
  const keys = new Map<string, Key>(); // by `${region}/${keyId}`
  const aliases = new Map<string, string>(); // `${region}/alias/x` -> keyId
  const secrets = new Map(Object.entries(options.secrets ?? {}));
  const regionDown = new Map<string, FaultKind>();
  const queued: FaultKind[] = [];
  let latencyMs = options.latencyMs ?? 0;
  let throttleRate = options.throttleRate ?? 0;
  let quotaRps = options.quotaRps ?? Number.POSITIVE_INFINITY;
  const random = prng(options.seed ?? 1);
  let windowStart = 0;
  let windowCount = 0;
  const calls: Record<string, number> = {};
  const requests: KmsServer["requests"] = [];
  const sockets = new Set<Socket>();

  const keyAt = (region: string, ref: string): Key => {
    let id = ref;
    if (ref.startsWith("arn:")) {
      const m = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(ref);
      if (!m) throw new KmsError("NotFoundException", `Invalid arn ${ref}`);
      if (m[1] !== region || m[2] !== ACCOUNT) throw new KmsError("NotFoundException", `Invalid arn ${ref}`);
      id = m[3] === "alias" ? `alias/${m[4]}` : (m[4] as string);
    }
    if (id.startsWith("alias/")) {
      const target = aliases.get(`${region}/${id}`);
      if (!target) throw new KmsError("NotFoundException", `Alias ${arnAlias(region, id)} is not found.`);
      id = target;
    }
    const key = keys.get(`${region}/${id}`);
    if (!key) throw new KmsError("NotFoundException", `Key '${arnOf(region, id)}' does not exist`);
    return key;
  };
  const arnAlias = (region: string, alias: string) => `arn:aws:kms:${region}:${ACCOUNT}:${alias}`;
  const adminKey = (ref: string): Key[] => {
    // Admin calls accept a key id (every replica) or an ARN (that region only).
    const m = /^arn:aws:kms:([a-z0-9-]+):\d{12}:key\/(.+)$/.exec(ref);
    const found = [...keys.values()].filter((k) => (m ? k.region === m[1] && k.keyId === m[2] : k.keyId === ref));
    if (found.length === 0) throw new Error(`no such key ${ref}`);
    return found;
  };
  const usable = (key: Key, op: string) => {
    if (key.denied === true || (key.denied instanceof Set && key.denied.has(op))) {
      throw new KmsError(
        "AccessDeniedException",
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/test/session is not authorized to perform: kms:${op} on resource: ${arnOf(key.region, key.keyId)} because no identity-based policy allows the kms:${op} action`,
      );
    }
    if (key.state === "Disabled") throw new KmsError("DisabledException", `${arnOf(key.region, key.keyId)} is disabled.`);
    if (key.state === "PendingDeletion") {
      throw new KmsError("KMSInvalidStateException", `${arnOf(key.region, key.keyId)} is pending deletion.`);
    }
  };

  const seal = (key: Key, plaintext: Buffer, ctx: unknown): Buffer => {
    const version = key.versions.length - 1;
    const material = key.versions[version] as Buffer;
    const id = Buffer.from(key.keyId);
    const header = Buffer.alloc(2 + id.length + 4);
    header[0] = BLOB_MAGIC;
    header[1] = id.length;
    id.copy(header, 2);
    header.writeUInt32BE(version, 2 + id.length);
    const nonce = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", material, nonce);
    c.setAAD(Buffer.concat([header, contextAad(ctx)]));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([header, nonce, ct, c.getAuthTag()]);
  };
  const blobKeyId = (blob: Buffer): { keyId: string; version: number; headerLen: number } => {
    const bad = () => new KmsError("InvalidCiphertextException", "");
    if (blob.length < 2 || blob[0] !== BLOB_MAGIC) throw bad();
    const idLen = blob[1] as number;
    const headerLen = 2 + idLen + 4;
    if (blob.length < headerLen + 12 + 16) throw bad();
    return { keyId: blob.subarray(2, 2 + idLen).toString(), version: blob.readUInt32BE(2 + idLen), headerLen };
  };
  const open = (region: string, blob: Buffer, ctx: unknown, pinned: string | undefined, op: string) => {
    const { keyId, version, headerLen } = blobKeyId(blob);
    const key = keys.get(`${region}/${keyId}`);
    if (pinned !== undefined) {
      const want = keyAt(region, pinned);
      if (!key || want.keyId !== key.keyId) {
        throw new KmsError("IncorrectKeyException", "The key ID in the request does not identify a KMS key that can perform this operation.");
      }
    }
    if (!key) throw new KmsError("InvalidCiphertextException", "");
    usable(key, op);
    const material = key.versions[version];
    if (!material) throw new KmsError("InvalidCiphertextException", "");
    const nonce = blob.subarray(headerLen, headerLen + 12);
    const tag = blob.subarray(blob.length - 16);
    const d = createDecipheriv("aes-256-gcm", material, nonce);
    d.setAAD(Buffer.concat([blob.subarray(0, headerLen), contextAad(ctx)]));
    d.setAuthTag(tag);
    try {
      return { key, plaintext: Buffer.concat([d.update(blob.subarray(headerLen + 12, blob.length - 16)), d.final()]) };
    } catch {
      // KMS says nothing more about why: wrong context, wrong blob, tampering all look alike.
      throw new KmsError("InvalidCiphertextException", "");
    }
  };
  const b64 = (v: unknown, field: string): Buffer => {
    if (typeof v !== "string" || v.length === 0) throw new KmsError("ValidationException", `${field} is required`);
    return Buffer.from(v, "base64");
  };
  const keyIdOf = (body: Record<string, unknown>, field = "KeyId"): string => {
    const v = body[field];
    if (typeof v !== "string" || v.length === 0) throw new KmsError("ValidationException", `${field} is required`);
    return v;
  };
  const metadata = (key: Key) => ({
    AWSAccountId: ACCOUNT,
    KeyId: key.keyId,
    Arn: arnOf(key.region, key.keyId),
    CreationDate: key.created,
    Enabled: key.state === "Enabled",
    Description: key.description,
    KeyUsage: "ENCRYPT_DECRYPT",
    KeyState: key.state,
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    KeySpec: "SYMMETRIC_DEFAULT",
    CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
    EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    MultiRegion: key.multiRegion,
  });

  const kmsOps: Record<string, (region: string, body: Record<string, unknown>, log: { keyId?: string }) => unknown> = {
    Encrypt(region, body, log) {
      const key = keyAt(region, keyIdOf(body));
      log.keyId = key.keyId;
      usable(key, "Encrypt");
      const plaintext = b64(body.Plaintext, "Plaintext");
      if (plaintext.length > 4096) throw new KmsError("ValidationException", "Plaintext is longer than 4096 bytes");
      return {
        CiphertextBlob: seal(key, plaintext, body.EncryptionContext).toString("base64"),
        KeyId: arnOf(region, key.keyId),
        EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
    },
    GenerateDataKey(region, body, log) {
      const key = keyAt(region, keyIdOf(body));
      log.keyId = key.keyId;
      usable(key, "GenerateDataKey");
      const n = body.KeySpec === "AES_128" ? 16 : body.KeySpec === "AES_256" ? 32 : Number(body.NumberOfBytes);
      if (!Number.isInteger(n) || n < 1 || n > 1024) throw new KmsError("ValidationException", "KeySpec or NumberOfBytes is required");
      const plaintext = randomBytes(n);
      const out = {
        CiphertextBlob: seal(key, plaintext, body.EncryptionContext).toString("base64"),
        Plaintext: plaintext.toString("base64"),
        KeyId: arnOf(region, key.keyId),
      };
      plaintext.fill(0);
      return out;
    },
    Decrypt(region, body, log) {
      const blob = b64(body.CiphertextBlob, "CiphertextBlob");
      const pinned = typeof body.KeyId === "string" ? body.KeyId : undefined;
      const { key, plaintext } = open(region, blob, body.EncryptionContext, pinned, "Decrypt");
      log.keyId = key.keyId;
      const out = { KeyId: arnOf(region, key.keyId), Plaintext: plaintext.toString("base64"), EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
      plaintext.fill(0);
      return out;
    },
    ReEncrypt(region, body, log) {
      const blob = b64(body.CiphertextBlob, "CiphertextBlob");
      const pinned = typeof body.SourceKeyId === "string" ? body.SourceKeyId : undefined;
      const dest = keyAt(region, keyIdOf(body, "DestinationKeyId"));
      const { key, plaintext } = open(region, blob, body.SourceEncryptionContext, pinned, "ReEncryptFrom");
      log.keyId = key.keyId;
      usable(dest, "ReEncryptTo");
      const out = {
        CiphertextBlob: seal(dest, plaintext, body.DestinationEncryptionContext).toString("base64"),
        SourceKeyId: arnOf(region, key.keyId),
        KeyId: arnOf(region, dest.keyId),
        SourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        DestinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT",
      };
      plaintext.fill(0);
      return out;
    },
    DescribeKey(region, body, log) {
      const key = keyAt(region, keyIdOf(body));
      log.keyId = key.keyId;
      if (key.denied === true || (key.denied instanceof Set && key.denied.has("DescribeKey"))) usable(key, "DescribeKey");
      return { KeyMetadata: metadata(key) };
    },
    ListAliases(region) {
      const list = [...aliases.entries()]
        .filter(([k]) => k.startsWith(`${region}/`))
        .map(([k, keyId]) => {
          const name = k.slice(region.length + 1);
          return { AliasName: name, AliasArn: arnAlias(region, name), TargetKeyId: keyId };
        });
      return { Aliases: list, Truncated: false };
    },
  };

  const throttled = (): boolean => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      windowCount = 0;
    }
    windowCount++;
    if (windowCount > quotaRps) return true;
    return throttleRate > 0 && random() < throttleRate;
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      "content-type": "application/x-amz-json-1.1",
      "content-length": Buffer.byteLength(text),
      "x-amzn-requestid": randomUUID(),
    };
    if (status >= 400) headers["x-amzn-errortype"] = (body as { __type: string }).__type;
    res.writeHead(status, headers);
    res.end(text);
  };
  const sendFault = (res: ServerResponse, kind: FaultKind) => {
    if (kind === "hang") return;
    if (kind === "reset") {
      res.socket?.destroy();
      return;
    }
    if (kind === "http503") {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("Service Unavailable");
      return;
    }
    const status = kind === "ThrottlingException" ? 400 : 500;
    send(res, status, { __type: kind, message: kind === "ThrottlingException" ? "Rate exceeded" : "Internal error" });
  };

  const scope = (req: IncomingMessage, service: string): string => {
    const auth = String(req.headers.authorization ?? "");
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
    if (!m) throw new KmsError("MissingAuthenticationTokenException", "Missing Authentication Token", 400);
    if (m[4] !== service) throw new KmsError("InvalidSignatureException", `Credential should be scoped to correct service: '${service}'.`);
    return m[3] as string;
  };
  const verify = (req: IncomingMessage, raw: Buffer) => {
    if (!options.credentials) return;
    const auth = String(req.headers.authorization);
    const m = /Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})/.exec(auth);
    const [, akid, date, region, service, signedHeaders, signature] = m as unknown as string[];
    const secret = options.credentials[akid as string];
    if (!secret) throw new KmsError("UnrecognizedClientException", "The security token included in the request is invalid.");
    // SigV4 (AWS General Reference, "Create a signed AWS API request"): canonical request,
    // string to sign, derived key, HMAC. POST / with no query string.
    const names = (signedHeaders as string).split(";");
    const canonHeaders = names.map((h) => `${h}:${String(req.headers[h] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
    const payloadHash = createHash("sha256").update(raw).digest("hex");
    const canonical = ["POST", "/", "", canonHeaders, signedHeaders, payloadHash].join("\n");
    const amzDate = String(req.headers["x-amz-date"]);
    const credScope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, credScope, createHash("sha256").update(canonical).digest("hex")].join("\n");
    let k: Buffer = createHmac("sha256", `AWS4${secret}`).update(date as string).digest();
    for (const part of [region, service, "aws4_request"]) k = createHmac("sha256", k).update(part as string).digest();
    const expected = createHmac("sha256", k).update(toSign).digest("hex");
    if (expected !== signature) {
      throw new KmsError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const [service, op = ""] = target.split(".");
    const isKms = service === "TrentService";
    const isSm = service === "secretsmanager";
    calls[op] = (calls[op] ?? 0) + 1;
    const client = /aws-sdk-js/.test(String(req.headers["user-agent"] ?? "")) ? "sdk" : "other";
    const log: KmsServer["requests"][number] = { op, region: "", client };
    requests.push(log);
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    try {
      if (req.method !== "POST" || (!isKms && !isSm)) throw new KmsError("UnknownOperationException", "");
      const region = scope(req, isKms ? "kms" : "secretsmanager");
      log.region = region;
      verify(req, raw);
      if (!regions.includes(region)) throw new KmsError("UnrecognizedClientException", `unknown region ${region}`);
      const down = regionDown.get(region);
      if (down) {
        log.error = down;
        return sendFault(res, down);
      }
      if (isKms) {
        const fault = queued.shift();
        if (fault) {
          log.error = fault;
          return sendFault(res, fault);
        }
        if (throttled()) throw new KmsError("ThrottlingException", "Rate exceeded");
      }
      let body: Record<string, unknown>;
      try {
        body = raw.length ? JSON.parse(raw.toString("utf8")) : {};
      } catch {
        throw new KmsError("SerializationException", "Start of structure or map found where not expected.");
      }
      if (isSm) {
        if (op !== "GetSecretValue") throw new KmsError("UnknownOperationException", "");
        const name = String(body.SecretId ?? "");
        const value = secrets.get(name);
        if (value === undefined) throw new KmsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
        return send(res, 200, {
          ARN: `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${name}-AbCdEf`,
          Name: name,
          SecretString: value,
          VersionId: "00000000-0000-0000-0000-000000000001",
          VersionStages: ["AWSCURRENT"],
          CreatedDate: 1767225600,
        });
      }
      const fn = kmsOps[op];
      if (!fn) throw new KmsError("UnknownOperationException", "");
      return send(res, 200, fn(region, body, log));
    } catch (e) {
      if (e instanceof KmsError) {
        log.error = e.type;
        return send(res, e.status, { __type: e.type, message: e.message });
      }
      log.error = "KMSInternalException";
      return send(res, 500, { __type: "KMSInternalException", message: "internal error" });
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      handle(req, res, raw)
        .catch(() => res.destroy())
        .finally(() => raw.fill(0));
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const api: KmsServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    requests,
    createKey(opts = {}) {
      const region = opts.region ?? (regions[0] as string);
      const keyId = opts.multiRegion ? `mrk-${randomBytes(16).toString("hex")}` : randomUUID();
      const key: Key = {
        keyId,
        region,
        multiRegion: Boolean(opts.multiRegion),
        description: opts.description ?? "",
        versions: [randomBytes(32)],
        state: "Enabled",
        denied: false,
        created: Math.floor(Date.now() / 1000),
      };
      keys.set(`${region}/${keyId}`, key);
      return { keyId, arn: arnOf(region, keyId), region, multiRegion: key.multiRegion };
    },
    replicateKey(keyId, region) {
      const src = adminKey(keyId)[0] as Key;
      if (!src.multiRegion) throw new Error("only multi-Region keys replicate");
      // Replicas share key material (the property that makes multi-Region keys useful).
      keys.set(`${region}/${keyId}`, { ...src, region, versions: src.versions, denied: false });
      return { keyId, arn: arnOf(region, keyId), region, multiRegion: true };
    },
    createAlias(aliasName, keyIdOrArn) {
      const key = adminKey(keyIdOrArn)[0] as Key;
      const name = aliasName.startsWith("alias/") ? aliasName : `alias/${aliasName}`;
      aliases.set(`${key.region}/${name}`, key.keyId);
      return arnAlias(key.region, name);
    },
    rotateKey(ref) {
      const found = adminKey(ref);
      const fresh = randomBytes(32);
      // Replicas of a multi-Region key share one versions array, so push once.
      const seen = new Set<Buffer[]>();
      for (const k of found) {
        if (seen.has(k.versions)) continue;
        seen.add(k.versions);
        k.versions.push(fresh);
      }
      return (found[0] as Key).versions.length - 1;
    },
    disableKey(ref) {
      for (const k of adminKey(ref)) k.state = "Disabled";
    },
    enableKey(ref) {
      for (const k of adminKey(ref)) k.state = "Enabled";
    },
    scheduleKeyDeletion(ref) {
      for (const k of adminKey(ref)) k.state = "PendingDeletion";
    },
    setAccessDenied(ref, denied) {
      for (const k of adminKey(ref)) k.denied = Array.isArray(denied) ? new Set(denied) : denied;
    },
    setThrottle(opts) {
      if (opts.rate !== undefined) throttleRate = opts.rate;
      if (opts.quotaRps !== undefined) quotaRps = opts.quotaRps;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    setRegionDown(region, down) {
      if (down === false) regionDown.delete(region);
      else regionDown.set(region, down === true ? "reset" : down);
    },
    failNext(kind, count = 1) {
      for (let i = 0; i < count; i++) queued.push(kind);
    },
    setSecret(name, value) {
      secrets.set(name, value);
    },
    resetCounters() {
      for (const k of Object.keys(calls)) delete calls[k];
      requests.length = 0;
    },
    close() {
      return new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
  return api;
}

/**
 * The environment of a child process (CLI, built function) that talks to `server` as AWS:
 * fake static credentials, the KMS endpoint override, and no shared config, profile or
 * instance metadata to fall back on.
 */
export function awsChildEnv(
  server: Pick<KmsServer, "url">,
  home: string,
  creds: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string },
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: home,
    NO_COLOR: "1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: `${home}/no-aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${home}/no-aws-credentials`,
    AWS_ENDPOINT_URL_KMS: server.url,
    AWS_REGION: "us-east-1",
    ...creds,
  };
}
