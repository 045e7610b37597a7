/**
 * The light runtime path: one `Decrypt` over `node:https` (or `node:http` for a local
 * endpoint), signed with SigV4 (`_sigv4.ts`), instead of loading `@aws-sdk/client-kms`. The
 * benchmark (bench/aws-cold-start.mjs, docs/benchmarks.md) decided it: the SDK's import is
 * most of a cold start's unwrap. It is used only where it behaves as the SDK would (see
 * `liteEligible` in hybrid.ts): credentials from the environment, the standard endpoint or
 * AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL, one attempt (the runtime retries), and the same
 * error mapping (`toSealkitError`, from the exception name in the response).
 */
import type { Agent } from "node:http";
import type { ProviderCall } from "@sealkit/envelope";
import { signRequest } from "./_sigv4.js";
import { parseKmsArn } from "./arn.js";
import { toSealkitError } from "./errors.js";

type Env = Record<string, string | undefined>;

/** The KMS endpoint the SDK would use for this region, given the same environment. */
export function kmsEndpoint(region: string, partition: string, env: Env): URL {
  const configured = env.AWS_ENDPOINT_URL_KMS || env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  return new URL(`https://kms.${region}.${partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}`);
}

const agents = new Map<string, Promise<{ request: typeof import("node:http").request; agent: Agent }>>();
function transport(protocol: string) {
  let t = agents.get(protocol);
  if (!t) {
    // Keep-alive: a TTL refresh later in the same warm instance reuses the connection.
    t = (protocol === "http:" ? import("node:http") : import("node:https")).then((m) => ({
      request: m.request as typeof import("node:http").request,
      agent: new m.Agent({ keepAlive: true, maxSockets: 8 }) as Agent,
    }));
    agents.set(protocol, t);
  }
  return t;
}

/** An error shaped as the SDK shapes service errors, so one mapping serves both paths. */
function serviceError(status: number, type: string | undefined, message: string) {
  // AWS JSON 1.1 error type: the x-amzn-errortype header or __type, possibly
  // "namespace#Name" or "Name:http://...": keep Name.
  const name = (type ?? "").split(":")[0]?.split("#").pop() || (status >= 500 ? "InternalFailure" : `HTTP${status}`);
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

export async function liteDecrypt(wrapped: Uint8Array, call: ProviderCall, env: Env = process.env): Promise<Uint8Array> {
  const arn = parseKmsArn(call.keyRef);
  const url = kmsEndpoint(arn.region, arn.partition, env);
  const body = JSON.stringify({
    CiphertextBlob: Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength).toString("base64"),
    KeyId: arn.arn,
    EncryptionContext: { ...call.context },
  });
  const headers = signRequest(
    {
      url,
      region: arn.region,
      service: "kms",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Decrypt" },
      body,
    },
    {
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    },
  );
  headers["user-agent"] = "sealkit-aws-kms-lite/0.1";
  headers["content-length"] = String(Buffer.byteLength(body));
  const { request, agent } = await transport(url.protocol);
  let raw: Buffer;
  let status: number;
  let errorType: string | undefined;
  try {
    ({ raw, status, errorType } = await new Promise<{ raw: Buffer; status: number; errorType?: string }>((resolve, reject) => {
      const r = request(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          ...(url.port ? { port: Number(url.port) } : {}),
          path: url.pathname || "/",
          method: "POST",
          headers,
          agent,
          ...(call.signal ? { signal: call.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const h = res.headers["x-amzn-errortype"];
            resolve({ raw: Buffer.concat(chunks), status: res.statusCode ?? 0, errorType: Array.isArray(h) ? h[0] : h });
            for (const c of chunks) c.fill(0);
          });
        },
      );
      r.on("error", (e: Error & { code?: string }) =>
        reject(call.signal?.aborted || e.name === "AbortError" ? Object.assign(new Error("aborted"), { name: "AbortError" }) : e),
      );
      r.end(body);
    }));
  } catch (e) {
    throw toSealkitError(e, "Decrypt", arn.arn);
  }
  try {
    let doc: Record<string, unknown> = {};
    try {
      doc = JSON.parse(raw.toString("utf8"));
    } catch {
      if (status === 200) throw toSealkitError(serviceError(502, "SerializationException", "unparseable response"), "Decrypt", arn.arn);
    }
    if (status !== 200) {
      const type = errorType ?? (doc.__type as string | undefined) ?? (doc.code as string | undefined);
      throw toSealkitError(serviceError(status, type, String(doc.message ?? doc.Message ?? "")), "Decrypt", arn.arn);
    }
    const b = Buffer.from(String(doc.Plaintext ?? ""), "base64");
    const out = new Uint8Array(b);
    b.fill(0);
    return out;
  } finally {
    raw.fill(0);
  }
}
