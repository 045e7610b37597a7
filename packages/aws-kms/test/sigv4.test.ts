/**
 * Our SigV4 (src/_sigv4.ts) against an independent implementation (aws4, a test-only
 * dependency) on the same request and time; the server-side check of real requests is in
 * lite.test.ts (the local KMS server verifies every signature, the SDK's included).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { amzDate, signRequest } from "../src/_sigv4.js";

const { sign } = createRequire(import.meta.url)("aws4") as typeof import("aws4");

const creds = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };

function both(url: string, body: string, region: string, sessionToken?: string) {
  const date = new Date(Date.UTC(2026, 11, 3, 16, 0, 7));
  const u = new URL(url);
  const base = { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Decrypt", "content-length": String(Buffer.byteLength(body)) };
  const c = sessionToken ? { ...creds, sessionToken } : creds;
  const ours = signRequest({ url: u, region, service: "kms", headers: base, body, date }, c);
  const theirs = sign(
    {
      host: u.port ? `${u.hostname}:${u.port}` : u.hostname,
      path: u.pathname,
      method: "POST",
      service: "kms",
      region,
      body,
      headers: { ...base, "X-Amz-Date": amzDate(date), Host: u.port ? `${u.hostname}:${u.port}` : u.hostname },
    },
    c,
  );
  return { ours: ours.authorization, theirs: String((theirs.headers as Record<string, string>).Authorization) };
}

describe("SigV4", () => {
  it("formats x-amz-date in ISO 8601 basic UTC", () => {
    expect(amzDate(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)))).toBe("20260102T030405Z");
  });

  it("matches aws4 for a KMS Decrypt on the regional endpoint", () => {
    const { ours, theirs } = both("https://kms.eu-west-1.amazonaws.com/", '{"CiphertextBlob":"AAAA","KeyId":"arn"}', "eu-west-1");
    expect(ours).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261203\/eu-west-1\/kms\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/);
    expect(ours).toBe(theirs);
  });

  it("matches aws4 with a session token and a local endpoint with a port", () => {
    const { ours, theirs } = both("http://127.0.0.1:4566/", "{}", "us-east-1", "FwoGZXIvYXdzEXAMPLE//token+with/slashes=");
    expect(ours).toContain("x-amz-security-token");
    expect(ours).toBe(theirs);
  });

  it("changes with the body, the region and the secret", () => {
    const a = both("https://kms.us-east-1.amazonaws.com/", "{}", "us-east-1").ours;
    expect(both("https://kms.us-east-1.amazonaws.com/", "{ }", "us-east-1").ours).not.toBe(a);
    expect(both("https://kms.us-east-1.amazonaws.com/", "{}", "us-west-2").ours).not.toBe(a);
  });
});
