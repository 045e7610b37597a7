/** Markdown tables and the "run as a script" check shared by the benchmark scripts. */
import { pathToFileURL } from "node:url";

export function isMain(url) {
  return process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;
}

const cell = (v) => (v === undefined || v === null ? "" : Array.isArray(v) ? v.join(", ") : String(v));

export function printTable(head, rows) {
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(" | ")} |`);
  return lines.join("\n");
}
