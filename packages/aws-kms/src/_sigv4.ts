/**
 * AWS Signature Version 4 for one JSON POST, on `node:crypto`. Written from the AWS
 * General Reference ("Create a signed AWS API request": canonical request, string to sign,
 * derived signing key, signature) rather than taken from a library, because the libraries
 * that fit (aws4, aws4fetch, @smithy/signature-v4) either `require()` Node built-ins, which
 * breaks ESM bundles, or pull in fetch/Headers (undici, 100+ ms at cold start). Checked in
 * test/sigv4.test.ts against `aws4` and against a server that verifies signatures.
 */
import { createHash, createHmac } from "node:crypto";

export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigV4Request {
  readonly url: URL;
  readonly region: string;
  readonly service: string;
  /** Headers besides host, x-amz-date and x-amz-security-token; names in any case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The signing time (tests); default now. */
  readonly date?: Date;
}

const sha256hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** `20260103T160000Z` (ISO 8601 basic format, UTC). */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** RFC 3986 encoding of each path segment, as SigV4 wants for every service but S3. */
function canonicalPath(path: string): string {
  return (
    path
      .split("/")
      .map((s) => encodeURIComponent(decodeURIComponent(s)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
      .join("/") || "/"
  );
}

/** Returns every header to send, `authorization` included (names lowercased). */
export function signRequest(req: SigV4Request, creds: SigV4Credentials): Record<string, string> {
  const when = amzDate(req.date ?? new Date());
  const day = when.slice(0, 8);
  const host = req.url.port ? `${req.url.hostname}:${req.url.port}` : req.url.hostname;
  const headers: Record<string, string> = { host, "x-amz-date": when };
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  if (creds.sessionToken) headers["x-amz-security-token"] = creds.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [
    "POST",
    canonicalPath(req.url.pathname),
    "", // no query string
    canonicalHeaders,
    signedHeaders,
    sha256hex(req.body),
  ].join("\n");
  const scope = `${day}/${req.region}/${req.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", when, scope, sha256hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${creds.secretAccessKey}`, day);
  for (const part of [req.region, req.service, "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  key.fill(0);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
