import { SealkitError } from "@sealkit/envelope";

/** A parsed KMS key reference: a key ARN or an alias ARN. */
export interface KmsArn {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly kind: "key" | "alias";
  /** The key id (`1234abcd-…` or `mrk-…`) or the alias name (`alias/my-app`). */
  readonly id: string;
  /** A multi-Region key (`mrk-` prefix); replicas in other regions share its key material. */
  readonly multiRegion: boolean;
}

// AWS KMS Developer Guide, "Key identifiers (KeyId)": key ARNs end in key/<uuid> or
// key/mrk-<32 hex>; alias names are alias/ then 1-250 of [A-Za-z0-9/_-].
const ARN = /^arn:(aws(?:-[a-z]+)*):kms:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):(key|alias)\/(.+)$/;
const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const ALIAS = /^[A-Za-z0-9/_-]{1,250}$/;

export const ARN_HINT =
  "expected arn:aws:kms:<region>:<account>:key/<key-id>, arn:aws:kms:<region>:<account>:key/mrk-<id> or arn:aws:kms:<region>:<account>:alias/<name>";

/** Parses a KMS key or alias ARN; throws `E_CONFIG` naming what is wrong. */
export function parseKmsArn(ref: string): KmsArn {
  const m = typeof ref === "string" ? ARN.exec(ref) : null;
  const bad = (why: string) =>
    new SealkitError("E_CONFIG", `malformed AWS KMS key reference ${JSON.stringify(String(ref)).slice(0, 200)}: ${why}; ${ARN_HINT}`, {
      details: { provider: "aws-kms", keyRef: String(ref).slice(0, 200) },
    });
  if (!m) {
    if (typeof ref === "string" && /^(alias\/|[0-9a-f]{8}-|mrk-)/.test(ref)) throw bad("a bare key id or alias names no region");
    throw bad("not a KMS ARN");
  }
  const [, partition, region, account, kind, id] = m as unknown as [string, string, string, string, "key" | "alias", string];
  if (kind === "key" && !KEY_ID.test(id)) throw bad(`"${id}" is not a key id`);
  if (kind === "alias" && (!ALIAS.test(id) || id.startsWith("aws/"))) throw bad(`"alias/${id}" is not a customer alias name`);
  return Object.freeze({
    arn: ref,
    partition,
    region,
    account,
    kind,
    id: kind === "alias" ? `alias/${id}` : id,
    multiRegion: kind === "key" && id.startsWith("mrk-"),
  });
}

/** The key ARN a store records (pins): aliases are resolved first, by `initKeys`. */
export function keyArn(a: Pick<KmsArn, "partition" | "region" | "account">, keyId: string): string {
  return `arn:${a.partition}:kms:${a.region}:${a.account}:key/${keyId}`;
}
