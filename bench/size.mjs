/**
 * Size: (1) @sealkit/runtime with its envelope code, no provider, minified and gzipped: the
 * portable entry (platform neutral, the DESIGN.md budget, measured the way the runtime's own
 * size test does) and the Node entry; (2) each contender's function bundle (N = 20, minified
 * ESM, everything bundled as for a Lambda zip): bytes, gzipped bytes and the npm packages
 * in it; and the same with the AWS SDK clients (and the Encryption SDK) left external.
 *
 *   node bench/size.mjs
 */
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { CONTENDERS } from "./lib/contenders.mjs";
import { SMOKE, runStandalone } from "./lib/context.mjs";
import { BENCH_DIR, packagesOf } from "./lib/fixtures.mjs";
import { printTable } from "./lib/report.mjs";

async function runtimeSize(platform) {
  const out = await esbuild.build({
    stdin: { contents: 'export * from "@sealkit/runtime";', resolveDir: BENCH_DIR, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    write: false,
    metafile: true,
    logLevel: "silent",
    nodePaths: [join(BENCH_DIR, "node_modules")],
  });
  const code = out.outputFiles[0].contents;
  return { bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length, packages: packagesOf(out.metafile) };
}

export async function run(ctx, { n = SMOKE ? 2 : 20 } = {}) {
  const runtime = { portable: await runtimeSize("neutral"), node: await runtimeSize("node") };
  const bundles = [];
  for (const c of CONTENDERS.filter((x) => x !== "kms-serial")) {
    const b = await ctx.bundle(c, n);
    // The same function with the AWS SDK clients (and the Encryption SDK) left out of the
    // bundle, as when a function relies on the SDK v3 its Lambda runtime provides.
    const x = await ctx.bundle(c, n, { fleet: true });
    bundles.push({
      contender: c,
      bytes: b.bytes,
      gzipBytes: b.gzipBytes,
      packages: b.packages.length,
      packageList: b.packages,
      via: b.via,
      sdkExternal: { bytes: x.bytes, gzipBytes: x.gzipBytes, packages: x.packages.length, packageList: x.packages },
    });
  }
  return { n, runtime, bundles };
}

export function table(res) {
  const rt = printTable(
    ["@sealkit/runtime + envelope", "bytes", "gzipped bytes", "packages"],
    Object.entries(res.runtime).map(([k, v]) => [k === "portable" ? "portable entry (platform neutral)" : "Node entry", v.bytes, v.gzipBytes, v.packages]),
  );
  const fn = printTable(
    [`function bundle, N = ${res.n}`, "bytes", "gzipped bytes", "npm packages in it", "SDK clients external: gzipped bytes", "packages"],
    res.bundles.map((b) => [b.contender, b.bytes, b.gzipBytes, b.packages, b.sdkExternal.gzipBytes, b.sdkExternal.packages]),
  );
  return `${rt}\n\n${fn}`;
}

await runStandalone(import.meta.url, run, table, { maxN: 20 });
