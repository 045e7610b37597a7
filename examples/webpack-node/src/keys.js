import * as sk from "@sealkit/runtime";

/** A second module: `sk.secretBytes("token")` through a namespace import. */
export async function signingKey() {
  return sk.secretBytes("token");
}
