// Evaluates mutated bundles, each a fresh module (its own bundled runtime), and reports per
// secret: the value it opened to, or the error's name and code. Usage:
//   node _bundle-case-runner.mjs <cases.json> <out.json>   (cases: [{ id, file }])
// Any uncaught exception or unhandled rejection is recorded as a crash.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [casesFile, outFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, "utf8"));
const crashes = [];
process.on("uncaughtException", (e) => crashes.push(`uncaughtException: ${e?.stack ?? e}`));
process.on("unhandledRejection", (e) => crashes.push(`unhandledRejection: ${e?.stack ?? e}`));

const results = [];
for (const c of cases) {
  const r = { id: c.id, reads: {} };
  // The runtime keeps one state per realm (globalThis), shared by every copy of it: drop it
  // so this bundle's copy starts fresh, as in a new function instance. (Otherwise the first
  // bundle's data-key record would be the one used for every later case of the same store.)
  delete globalThis[Symbol.for("sealkit.runtime.v1")];
  try {
    const mod = await import(pathToFileURL(c.file).href);
    for (const name of c.names) {
      try {
        r.reads[name] = { value: await mod.secret(name) };
      } catch (e) {
        r.reads[name] = { error: { name: e?.name, code: e?.code, message: String(e?.message).slice(0, 300) } };
      }
    }
  } catch (e) {
    // Evaluating the module itself failed (e.g. register() refused a malformed record).
    r.load = { name: e?.name, code: e?.code, message: String(e?.message).slice(0, 300) };
  }
  results.push(r);
}
// Let any stray rejection surface before reporting.
await new Promise((resolve) => setTimeout(resolve, 50));
writeFileSync(outFile, JSON.stringify({ results, crashes }));
