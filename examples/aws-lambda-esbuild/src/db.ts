import * as sk from "@sealkit/runtime";

/** A second module reading the same secret: its envelope is still in the bundle once. */
export async function connectionString(): Promise<string> {
  const password = await sk.secret("db-password");
  return `postgres://app:${encodeURIComponent(password)}@db.internal:5432/app`;
}
