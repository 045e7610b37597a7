/**
 * `@sealkit/aws-kms/runtime`, the entry function bundles import: no AWS SDK inside, and a
 * clear error, not a crash, when the light client does not apply and the SDK is not
 * deployed beside the bundle.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const pkg = resolve(import.meta.dirname, "..");

async function bundle(contents: string) {
  return build({
    stdin: { contents, resolveDir: pkg, loader: "js" },
    bundle: true,
    platform: "node",
    format: "esm",
    minify: true,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
}

describe("@sealkit/aws-kms/runtime", () => {
  it("bundles without @aws-sdk/* (the package root bundles the SDK)", async () => {
    const lean = await bundle('import "@sealkit/aws-kms/runtime";');
    const full = await bundle('import "@sealkit/aws-kms";');
    const sdkInputs = (r: typeof lean) => Object.keys(r.metafile.inputs).filter((f) => f.includes("@aws-sdk") || f.includes("@smithy"));
    expect(sdkInputs(lean)).toEqual([]);
    expect(sdkInputs(full).length).toBeGreaterThan(10);
    const leanBytes = lean.outputFiles[0]?.contents.length ?? 0;
    expect(leanBytes).toBeLessThan(40_000);
    expect(leanBytes * 5).toBeLessThan(full.outputFiles[0]?.contents.length ?? 0);
  });

  it("without credentials in the environment, and no SDK beside the bundle, says how to fix it", async () => {
    const r = await bundle(
      [
        'import "@sealkit/aws-kms/runtime";',
        'import { getUnwrapper, wrapContext } from "@sealkit/envelope";',
        'const u = await getUnwrapper("aws-kms");',
        "const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';",
        "try {",
        '  await u.unwrapKey({ provider: "aws-kms", keyRef: arn, wrapped: "AAAA", context: wrapContext("AAAAAAAAAAAAAAAAAAAAAA", 1) }, new AbortController().signal);',
        "} catch (e) { process.stdout.write(JSON.stringify({ code: e.code, message: e.message })); }",
      ].join("\n"),
    );
    const dir = mkdtempSync(join(tmpdir(), "sk-aws-rt-"));
    const file = join(dir, "fn.mjs");
    writeFileSync(file, r.outputFiles[0]?.contents ?? "");
    const env = { PATH: process.env.PATH ?? "", HOME: dir, AWS_EC2_METADATA_DISABLED: "true" };
    const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: dir, env, encoding: "utf8" }));
    expect(out.code).toBe("E_CONFIG");
    expect(out.message).toContain("AWS_ACCESS_KEY_ID");
    expect(out.message).toContain("deploy @sealkit/aws-kms beside the bundle");
  });
});
