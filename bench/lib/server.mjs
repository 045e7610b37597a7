/**
 * The project's local AWS KMS test server (test/support/aws-kms-server.ts), loaded through
 * tsx, plus the environment that points a child process's AWS SDK at it. Everything stays on
 * 127.0.0.1: endpoint overrides, fake credentials, no instance metadata lookups.
 */
import { request } from "node:http";
import { tsImport } from "tsx/esm/api";

export async function startServer(options = {}) {
  const mod = await tsImport("../../test/support/aws-kms-server.ts", import.meta.url);
  return mod.startKmsServer({ regions: ["us-east-1"], ...options });
}

export const REGION = "us-east-1";

/** Environment for a child that talks to the local server through the SDK's own chain. */
export function awsEnv(server, { secretsManagerUrl } = {}) {
  return {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: "AKIDSEALKITBENCH",
    AWS_SECRET_ACCESS_KEY: "sealkit-bench-not-a-secret",
    AWS_SESSION_TOKEN: "",
    AWS_PROFILE: "",
    AWS_ENDPOINT_URL: server.url,
    ...(secretsManagerUrl ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManagerUrl } : {}),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    // Powertools: no tracing or metrics side channels.
    POWERTOOLS_DEV: "false",
  };
}

/** Key-service calls since the last reset: KMS operations and Secrets Manager reads. */
export function countCalls(server, ops = ["Decrypt", "GetSecretValue", "Encrypt", "ReEncrypt", "GenerateDataKey"]) {
  const out = {};
  for (const op of ops) if (server.calls[op]) out[op] = server.calls[op];
  const throttled = server.requests.filter((r) => r.error === "ThrottlingException").length;
  return { byOp: out, total: Object.values(out).reduce((a, b) => a + b, 0), throttled };
}

/**
 * Whether the server throttles Secrets Manager reads too (its throttle settings may apply to
 * KMS operations only). Probed with one raw request under a throttle rate of 1.
 */
export async function throttlesSecretsManager(server) {
  server.setThrottle({ rate: 1 });
  try {
    const status = await new Promise((resolve, reject) => {
      const body = JSON.stringify({ SecretId: "sealkit-bench-probe" });
      const req = request(
        `${server.url}/`,
        {
          method: "POST",
          headers: {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": "secretsmanager.GetSecretValue",
            authorization: `AWS4-HMAC-SHA256 Credential=AKIDSEALKITBENCH/20260101/${REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=${"0".repeat(64)}`,
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    return String(status).includes("ThrottlingException");
  } finally {
    server.setThrottle({ rate: 0 });
    server.resetCounters();
  }
}
