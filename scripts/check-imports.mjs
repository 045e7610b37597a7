// Lint rule no general linter has: the portable packages may not import node: modules,
// except in their Node-only entries. Fails with the file and the import.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const rules = [
  { dir: "packages/envelope/src", allow: ["local-node.ts"] },
  { dir: "packages/runtime/src", allow: ["node.ts", "node-"] },
];
let bad = 0;
for (const { dir, allow } of rules) {
  for (const f of readdirSync(dir, { recursive: true })) {
    const file = String(f);
    if (!file.endsWith(".ts") || allow.some((a) => file === a || file.startsWith(a))) continue;
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)["'](node:[^"']+|fs|path|crypto|os|child_process)["']/g)) {
      console.error(`${join(dir, file)}: imports ${m[1]}, which the portable runtime may not use`);
      bad++;
    }
  }
}
if (bad) process.exit(1);
console.log("check-imports: portable packages import no node: modules");
