/** @sealkit/plugin: one plugin for esbuild, Vite, Rollup, webpack and Rspack (see the per-bundler entries). */
import { createUnplugin } from "unplugin";
import { unpluginFactory } from "./unplugin.js";

export { type Analysis, type SealkitContext, type TransformOutput, cleanId, createContext } from "./context.js";
export { dtsSource } from "./dts.js";
export type { Manifest, ManifestStore, OutputSecrets } from "./manifest.js";
export type { FilterPattern, Options } from "./options.js";
export { isBrowserTarget, unpluginFactory } from "./unplugin.js";

export const unplugin = createUnplugin(unpluginFactory);
export default unplugin;
