// Runs one built bundle in a fresh process and counts unwraps: node _run-bundle.mjs <file> <export>
// After the bundle registered its provider, a counting wrapper replaces it (the provider
// registry is one per realm, shared with the bundle's copy of @sealkit/envelope).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { registerProvider } from "../../packages/envelope/dist/index.js";
import { localProvider } from "../../packages/envelope/dist/local-node.js";

const [file, exportName] = process.argv.slice(2);
const mod = file.endsWith(".cjs") ? createRequire(import.meta.url)(file) : await import(pathToFileURL(file).href);
const inner = localProvider();
let unwraps = 0;
registerProvider({
  id: "local",
  wrap: (k, c) => inner.wrap(k, c),
  unwrap: (w, c) => {
    unwraps++;
    return inner.unwrap(w, c);
  },
});
const fn = mod[exportName];
const first = await fn();
const second = await fn();
process.stdout.write(JSON.stringify({ first, second, unwraps }));
