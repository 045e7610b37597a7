import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { DIST_INDEX, requireBuild } from "./_dist.js";

describe("size budget", () => {
  it("the portable runtime with its envelope code is at most 6 KB minified and gzipped", async () => {
    requireBuild();
    const out = await build({
      entryPoints: [DIST_INDEX],
      bundle: true,
      minify: true,
      format: "esm",
      platform: "neutral",
      write: false,
      logLevel: "silent",
    });
    const code = out.outputFiles[0]?.contents as Uint8Array;
    const gz = gzipSync(code, { level: 9 }).length;
    console.log(`runtime+envelope: ${code.length} B minified, ${gz} B gzipped`);
    expect(gz).toBeLessThanOrEqual(6144);
  });
});
