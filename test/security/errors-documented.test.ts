import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "@sealkit/envelope";
import { EXIT_CODES } from "../../packages/cli/src/exit-codes.js";

const root = join(import.meta.dirname, "../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => join(dir, f));
}

describe("docs/errors.md is the catalog of every error code", () => {
  const doc = readFileSync(join(root, "docs/errors.md"), "utf8");

  it("documents every code in ERROR_CODES with its exit status", () => {
    for (const code of Object.keys(ERROR_CODES)) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${code}\` |`));
      expect(row, `${code} is missing from docs/errors.md`).toBeDefined();
      expect(row).toContain(`| ${EXIT_CODES[code as keyof typeof EXIT_CODES]} |`);
    }
  });

  it("every code thrown anywhere in packages/*/src is a known code", () => {
    const known = new Set(Object.keys(ERROR_CODES));
    const pkgs = readdirSync(join(root, "packages"));
    const used = new Set<string>();
    for (const p of pkgs) {
      let files: string[] = [];
      try {
        files = sourceFiles(join(root, "packages", p, "src"));
      } catch {
        continue;
      }
      for (const f of files) {
        for (const m of readFileSync(f, "utf8").matchAll(/SealkitError\(\s*"(E_[A-Z_]+)"/g)) used.add(m[1] as string);
      }
    }
    expect(used.size).toBeGreaterThan(5);
    for (const c of used) expect(known.has(c), `${c} is thrown but not in ERROR_CODES`).toBe(true);
  });
});
