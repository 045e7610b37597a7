import type { PolicyInput, PolicyOutput } from "@sealkit/envelope";
import { parseKmsArn } from "./arn.js";

/** The encryption-context key every Sealkit wrap carries; IAM conditions test it. */
export const STORE_CONTEXT_CONDITION = "kms:EncryptionContext:sealkit:store";

/** A Sid from an output path: IAM allows only [A-Za-z0-9]. */
function sid(prefix: string, output: string): string {
  const words = output.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return (prefix + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join("")).slice(0, 100);
}

/**
 * Least privilege for one function (output file) and one store:
 * - runtime: `kms:Decrypt` on exactly the key ARNs the store's data key is wrapped under,
 *   only when the encryption context names this store;
 * - keyPolicy: the matching statement for each key's key policy (the principal is the
 *   function's execution role, which the manifest cannot know);
 * - operator: what `sealkit set` (Decrypt), `init`/`rekey` (Encrypt, ReEncrypt*) and `init`
 *   (DescribeKey) need on the same keys.
 */
export function policy(input: PolicyInput): PolicyOutput {
  const arns = [...new Set(input.keys.map((k) => k.keyRef))];
  const parsed = arns.map(parseKmsArn);
  const accounts = [...new Set(parsed.map((a) => a.account))];
  const regions = [...new Set(parsed.map((a) => a.region))];
  const condition = { StringEquals: { [STORE_CONTEXT_CONDITION]: input.storeId } };
  const resource = arns.length === 1 ? arns[0] : arns;
  const runtime = {
    Sid: sid("SealkitDecrypt", input.output),
    Effect: "Allow",
    Action: "kms:Decrypt",
    Resource: resource,
    Condition: condition,
  };
  const keyPolicy = {
    Sid: sid("SealkitFunctionDecrypt", input.output),
    Effect: "Allow",
    Principal: { AWS: `arn:aws:iam::${accounts[0]}:role/REPLACE-WITH-FUNCTION-EXECUTION-ROLE` },
    Action: "kms:Decrypt",
    // In a key policy, "*" means "this key".
    Resource: "*",
    Condition: condition,
  };
  const operator = [
    {
      Sid: "SealkitOperatorSeal",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
      Resource: resource,
      Condition: condition,
    },
    {
      // DescribeKey takes no encryption context, so it cannot carry the store condition.
      Sid: "SealkitOperatorDescribe",
      Effect: "Allow",
      Action: "kms:DescribeKey",
      Resource: resource,
    },
  ];
  return {
    provider: "aws-kms",
    runtime,
    keyPolicy,
    operator,
    summary: [
      `kms:Decrypt on ${arns.length} key(s) in ${regions.join(", ")} when ${STORE_CONTEXT_CONDITION} = ${input.storeId}`,
      ...arns.map((a) => `  ${a}`),
      `secrets: ${input.secrets.join(", ") || "(none)"}`,
      "key policy: put keyPolicy in each key's policy, with the function's execution role as principal",
      "operator (sealkit set / rekey): kms:Encrypt, kms:Decrypt, kms:ReEncrypt* with the same condition, plus kms:DescribeKey",
    ],
  };
}
