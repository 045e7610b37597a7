import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatKeyRef, initKeys, parseKeyRef } from "@sealkit/pkcs11";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolvePin } from "../src/config.js";

describe("pkcs11 keyRef (RFC 7512 URI)", () => {
  it("round-trips labels with reserved characters, percent-encoded", () => {
    const ref = { token: "prod;eu=1", object: "master key/2027 ü" };
    const text = formatKeyRef(ref);
    expect(text).toBe("pkcs11:token=prod%3Beu%3D1;object=master%20key%2F2027%20%C3%BC");
    expect(parseKeyRef(text)).toEqual(ref);
    expect(parseKeyRef("pkcs11:object=k;type=secret-key;token=t")).toEqual({ token: "t", object: "k" });
  });

  it("refuses PINs, module paths, unknown attributes and missing parts", () => {
    for (const bad of [
      "pkcs11:token=t;object=k?pin-value=1234",
      "pkcs11:token=t;object=k?module-path=/x.so",
      "pkcs11:token=t;object=k;slot-id=3",
      "pkcs11:token=t",
      "pkcs11:object=k",
      "pkcs11:token=t;object=k;type=private",
      "arn:aws:kms:x",
      "pkcs11:token=t;token=u;object=k",
      `pkcs11:token=${"x".repeat(33)};object=k`,
    ]) {
      expect(() => parseKeyRef(bad), bad).toThrow(expect.objectContaining({ code: "E_CONFIG" }));
    }
  });

  it("initKeys turns --token/--key into keyRefs and needs a token for bare labels", async () => {
    const r = await initKeys({ keys: ["a", "pkcs11:token=other;object=b"], rawArgs: ["init", "--token", "main", "--module", "/usr/lib/softhsm/libsofthsm2.so"] }).catch(
      (e) => e,
    );
    // The module may be absent on a machine without SoftHSM: then only the module is wrong.
    if (r instanceof Error) expect(r).toMatchObject({ code: "E_CONFIG" });
    else expect(r.masterKeys.map((k: { keyRef: string }) => k.keyRef)).toEqual(["pkcs11:token=main;object=a", "pkcs11:token=other;object=b"]);
    await expect(initKeys({ keys: ["a"], rawArgs: ["init"] })).rejects.toMatchObject({ code: "E_INPUT" });
    await expect(initKeys({ keys: [], rawArgs: ["init", "--token", "t"] })).rejects.toMatchObject({ code: "E_INPUT" });
  });
});

describe("pkcs11 PIN sources", () => {
  let dir: string;
  const saved = { pin: process.env.SEALKIT_PKCS11_PIN, file: process.env.SEALKIT_PKCS11_PIN_FILE };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sealkit-pin-"));
    delete process.env.SEALKIT_PKCS11_PIN;
    delete process.env.SEALKIT_PKCS11_PIN_FILE;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of [["SEALKIT_PKCS11_PIN", saved.pin], ["SEALKIT_PKCS11_PIN_FILE", saved.file]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it("reads the env var, then an owner-only file (dropping one newline); refuses a shared file without echoing it", async () => {
    await expect(resolvePin()).rejects.toMatchObject({ code: "E_CREDENTIALS" });
    const file = join(dir, "pin");
    writeFileSync(file, "cu_user:s3cret-pin\n", { mode: 0o600 });
    process.env.SEALKIT_PKCS11_PIN_FILE = file;
    expect(await resolvePin()).toBe("cu_user:s3cret-pin");
    chmodSync(file, 0o644);
    const e = await resolvePin().catch((x) => x);
    expect(e).toMatchObject({ code: "E_CONFIG", message: expect.stringContaining("chmod 600") });
    expect(JSON.stringify(e) + e.message).not.toContain("s3cret");
    process.env.SEALKIT_PKCS11_PIN = "from-env";
    expect(await resolvePin()).toBe("from-env");
  });
});

describe("@sealkit/pkcs11 index", () => {
  // Runs the built package (dist/), as the CLI and bundles do.
  it("registers the provider without loading the native binding", async () => {
    const { spawnSync } = await import("node:child_process");
    const code =
      'import { registeredProviders } from "@sealkit/envelope"; await import("@sealkit/pkcs11");' +
      'const native = Object.keys((await import("node:module")).createRequire(import.meta.url).cache ?? {}).filter((k) => k.includes("pkcs11js"));' +
      "process.stdout.write(JSON.stringify({ ids: registeredProviders(), native }));";
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
      cwd: join(import.meta.dirname, ".."),
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ids).toContain("pkcs11");
    expect(out.native).toEqual([]);
  });
});
