// Runs the handler built by one bundler: node run.mjs webpack|rspack|rollup
import { createRequire } from "node:module";

const bundler = process.argv[2] ?? "webpack";
const mod = bundler === "rollup" ? await import("./dist/rollup/handler.mjs") : createRequire(import.meta.url)(`./dist/${bundler}/handler.cjs`);
console.log(await mod.handler({ user: "demo" }));
