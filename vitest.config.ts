import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import ClosingLineReporter from "./test/support/closing-line-reporter.js";

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Tests run against src/ without a build: each package's exports map (dist/*.js) is
 * mirrored to src/*.ts here. Subprocess and bundler tests use the built dist/ instead,
 * which is why `pnpm test` builds first.
 */
function sourceAliases() {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const dir of readdirSync(join(root, "packages"))) {
    const pkgFile = join(root, "packages", dir, "package.json");
    let pkg: { name: string; exports?: Record<string, unknown> };
    try {
      pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
    } catch {
      continue;
    }
    for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
      if (sub === "./package.json") continue;
      const pick = (t: unknown): string | undefined => {
        if (typeof t === "string") return t;
        if (t && typeof t === "object") {
          const o = t as Record<string, unknown>;
          return pick(o.node) ?? pick(o.default);
        }
        return undefined;
      };
      const file = pick(target);
      if (!file) continue;
      const src = resolve(root, "packages", dir, file.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
      const spec = sub === "." ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
      aliases.push({ find: new RegExp(`^${spec.replace(/[/.]/g, "\\$&")}$`), replacement: src });
    }
  }
  return aliases;
}

export default defineConfig({
  resolve: { alias: sourceAliases() },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new ClosingLineReporter()],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
