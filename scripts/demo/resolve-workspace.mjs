// Lets a script in the demo's temp dir import the workspace's @sealkit/* packages, as if
// they were installed there: registers a resolve hook that resolves from the repo root.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
      const root = ${JSON.stringify(new URL("../../package.json", import.meta.url).href)};
      export async function resolve(spec, ctx, next) {
        if (spec.startsWith("@sealkit/")) return next(spec, { ...ctx, parentURL: root.replace("package.json", "packages/cli/package.json") });
        return next(spec, ctx);
      }`),
);
