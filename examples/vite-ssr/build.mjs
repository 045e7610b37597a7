// Builds dist/worker.mjs: a server (SSR) build, so secret() is allowed; a client build
// of the same code would be refused by the plugin.
import sealkit from "@sealkit/plugin/vite";
import { build } from "vite";

await build({
  configFile: false,
  plugins: [sealkit()],
  ssr: { noExternal: true },
  build: {
    ssr: "src/worker.ts",
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    minify: true,
    rollupOptions: { output: { entryFileNames: "worker.mjs" } },
  },
});
