/**
 * The unplugin factory: three designs over one context (docs/plugin.md).
 * - Rollup, webpack and Rspack run `transform` on files that mention `@sealkit/runtime` (a
 *   native `filter` on id and code, so other files never reach JavaScript on Rollup 4.40+).
 * - esbuild runs no per-file hook: a native `onResolve` filter on `@sealkit/runtime` calls
 *   into JavaScript only for the files that import the runtime, and resolves that import
 *   to a stand-in module carrying just those files' envelopes (unplugin's esbuild adapter
 *   would otherwise call JavaScript for every file).
 * - Vite runs no hook at all while the module graph loads (see `vitePlugin`).
 */
import { createHash } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { SealkitError, isSealkitError } from "@sealkit/envelope";
import type { Metafile, PartialMessage, PluginBuild } from "esbuild";
import type { UnpluginFactory, UnpluginOptions } from "unplugin";
import { RESOLVED_PREFIX, RUNTIME_SELF, parseVirtualId, queuedEnvelopesSource, secretModuleId } from "./codegen.js";
import { type Analysis, type SealkitContext, cleanId, createContext } from "./context.js";
import { detailsOf } from "./errors.js";
import { moduleDir, writeIfChanged } from "./files.js";
import type { OutputSecrets } from "./manifest.js";
import { type Options, matchesFilter } from "./options.js";
import { RUNTIME_MODULE, mentionsRuntime } from "./scan.js";

const VIRTUAL_SPECIFIER = /^sealkit~(?:secret|key)\//;
const RESOLVED_VIRTUAL = /^\0sealkit~(?:secret|key)\//;
const VIRTUAL_OR_RUNTIME = /^(?:sealkit~(?:secret|key)\/|@sealkit\/runtime$)/;
/** A virtual module as webpack and Rspack name it: a file path with the id URI-encoded. */
const VIRTUAL_RESOURCE = /sealkit~(?:secret|key)(?:\/|%2F)/i;
const JS_OUTPUT = /\.[cm]?js$/;

export const unpluginFactory: UnpluginFactory<Options | undefined, false> = (options, meta) => {
  const ctx = createContext(options ?? {});
  if (meta.framework === "esbuild") return { name: "sealkit", esbuild: { setup: (build) => setupEsbuild(ctx, build) } };
  if (meta.framework === "vite") return vitePlugin(ctx);
  const rollupLike = meta.framework === "rollup" || meta.framework === "rolldown";
  let browser = false;
  /** webpack and Rspack: the entry modules' files, from the configuration. */
  let webpackEntries: EntryFiles = new EntryFiles([]);

  // Watch mode: the store is an input of the build, so `buildStart` names it as a watched
  // file and a changed store starts a rebuild, even while the last build failed on it. The
  // modules made from it must then be made again:
  // - webpack and Rspack rebuild a module only when one of its own dependencies changed, so
  //   importers and virtual modules name the store too;
  // - Rollup reloads every module anyway, but keeps the transform of an unchanged importer,
  //   so `shouldTransformCachedModule` redoes those of the runtime's importers (their names
  //   must be checked against the new store). Naming the store in transform or load as well
  //   would make it a transform dependency, and Rollup then loses its watch on the file after
  //   the store's second atomic rename (measured; its chokidar watchers share the fs.watch).
  const watchStore = (context: { addWatchFile(id: string): void }) => {
    const path = ctx.storePath();
    if (path) context.addWatchFile(path);
  };
  const watchStoreHere = rollupLike ? () => undefined : watchStore;
  let storeStamp: string | undefined;
  let storeChanged = false;

  /** Importers whose source the transform scanned (they mention the runtime). */
  const transformed = new Set<string>();
  const checkImporter = (context: unknown, file: string): void => {
    // the plugin's own modules import the runtime too (webpack names them by file paths)
    if (transformed.has(file) || VIRTUAL_RESOURCE.test(file) || file.startsWith(RESOLVED_PREFIX)) return;
    const e = ctx.importerProblem(file);
    if (!e) return;
    if (rollupLike) rollupError(context as { error(e: never): unknown }, e, file);
    // webpack and Rspack print a failed resolution as "Module not found: <error>": add the frame.
    const d = detailsOf(e);
    throw new SealkitError(e.code, d ? `${e.message}\n${d.frame}` : e.message, { details: e.details });
  };

  return {
    name: "sealkit",
    enforce: "pre",
    async buildStart() {
      ctx.startBuild({ browser });
      watchStore(this);
      if (rollupLike) {
        const stamp = ctx.storeStamp();
        storeChanged = storeStamp !== undefined && stamp !== storeStamp;
        storeStamp = stamp;
      }
      await ctx.writeDts();
    },
    resolveId: {
      filter: { id: VIRTUAL_OR_RUNTIME },
      handler(id, importer) {
        if (VIRTUAL_SPECIFIER.test(id)) return RESOLVED_PREFIX + id;
        // The runtime resolves as usual; an importer whose calls the transform cannot see is an error.
        if (id === RUNTIME_MODULE && importer) checkImporter(this, cleanId(importer));
        return undefined;
      },
    },
    load: virtualModules(ctx, watchStoreHere),
    transform: {
      filter: { id: { include: ctx.options.include as never, exclude: ctx.options.exclude as never }, code: RUNTIME_MODULE },
      async handler(code, id) {
        if (id.startsWith(RESOLVED_PREFIX)) return undefined;
        transformed.add(cleanId(id));
        watchStoreHere(this);
        try {
          const entry = rollupLike
            ? () => (this as unknown as RollupLikeContext).getModuleInfo(id)?.isEntry === true
            : () => webpackEntries.has(cleanId(id));
          const out = await ctx.transform(code, id, { browser, entry });
          if (!out) return undefined;
          // Rollup and Rolldown read `map: null` as "positions unchanged" and keep their own chain;
          // webpack's loader keeps the incoming map the same way, but only with a map to merge.
          return { code: out.code, map: out.inPlace && rollupLike ? null : out.map };
        } catch (e) {
          if (rollupLike) rollupError(this, e, id);
          if (!isSealkitError(e)) throw e;
          const d = detailsOf(e);
          // webpack and Rspack: the error lands in the compilation's errors (file:line:col + frame).
          this.error({ message: d ? `${e.code} ${e.message}\n${d.frame}` : `${e.code} ${e.message}`, stack: "" } as never);
          return undefined;
        }
      },
    },
    rollup: {
      // Rollup tests `external` before any resolve hook: a runtime marked external never
      // reaches resolveId, but Rollup knows its importers.
      buildEnd(this: RollupLikeContext, error?: unknown) {
        if (error) return;
        for (const importer of this.getModuleInfo(RUNTIME_MODULE)?.importers ?? []) checkImporter(this, cleanId(importer));
      },
      writeBundle: rollupWriteBundle(ctx),
      shouldTransformCachedModule: ({ code }: { code: string }) => storeChanged && code.includes(RUNTIME_MODULE),
    } as never,
    webpack(compiler) {
      browser = isBrowserTarget(compiler.options.target);
      webpackEntries = entryFiles(compiler.options as never);
      webpackLike(ctx, compiler as unknown as WebpackLikeCompiler);
    },
    rspack(compiler) {
      browser = isBrowserTarget(compiler.options.target as never);
      webpackEntries = entryFiles(compiler.options as never);
      webpackLike(ctx, compiler as unknown as WebpackLikeCompiler);
    },
  };
};

/** The `load` hook of the virtual modules (Rollup, webpack, Rspack): their text comes from the store. */
function virtualModules(ctx: SealkitContext, watchStore: (context: { addWatchFile(id: string): void }) => void): UnpluginOptions["load"] {
  return {
    filter: { id: RESOLVED_VIRTUAL },
    handler(id) {
      if (!parseVirtualId(id)) return undefined;
      watchStore(this);
      return ctx.load(id);
    },
  };
}

/** The manifest (and the `scan` check) once Rollup or Vite has written the bundle. */
function rollupWriteBundle(ctx: SealkitContext, readsOf: (moduleId: string) => Iterable<string> = virtualSecretOf) {
  return async (out: OutputOptionsLike, bundle: BundleLike) => {
    await ctx.writeManifest(rollupOutputs(out, bundle, readsOf), outDirOf(out));
    await ctx.scanOutput(outDirOf(out));
  };
}

/**
 * A Sealkit error through Rollup's and Vite's error channel, which prints the location and
 * the code frame itself and stops the build. Anything else is rethrown as it is.
 */
function rollupError(context: { error(e: never): unknown }, e: unknown, id: string): never {
  if (!isSealkitError(e)) throw e;
  const d = detailsOf(e);
  context.error({
    message: d ? d.reason : e.message,
    id,
    ...(d ? { loc: { file: d.file, line: d.line, column: d.column }, frame: d.frame } : {}),
    pluginCode: e.code,
  } as never);
  throw e; // not reached: this.error throws
}

/* ---------------------------------------------------------------------------------------
 * Vite (7 and 8): no JavaScript at all while the module graph loads.
 * ------------------------------------------------------------------------------------- */

/**
 * On Vite 8 every JavaScript hook that runs while Rolldown loads the module graph costs:
 * a transform hook, or a resolve hook, that does nothing for the 200 of 2,000 files that
 * import the runtime measured +5–10 % build time against a 10 % budget (docs/benchmarks.md).
 * So the build design runs none:
 * - `config` aliases "@sealkit/runtime" to a stand-in file (node_modules/.sealkit/), which
 *   Vite resolves and loads natively;
 * - `buildStart` writes that file: the store's providers, its data-key record, then the
 *   runtime itself under its second name ("@sealkit/runtime/self");
 * - `buildEnd` asks the bundler which modules import the stand-in and starts scanning them
 *   as they are on disk, as the esbuild design does, while Rolldown links; `renderStart`
 *   waits for the scan and fails the build with file:line:column if it found a problem;
 * - `intro` starts each chunk holding such modules with a push of just their envelopes into
 *   the realm's queue (ENVELOPE_QUEUE), which the runtime takes in on its first lookup.
 * A chunk carries the envelopes of its own modules; the bundle carries one data-key record.
 * `vite dev` does none of this: there the runtime's Node development fallback reads the store.
 */
function vitePlugin(ctx: SealkitContext): UnpluginOptions {
  const filter = (id: string) => matchesFilter(id, ctx.options.include, ctx.options.exclude);
  let viteSsr: boolean | undefined;
  /** The stand-in file (builds only), and the ids the bundler may know it by. */
  let standIn: string | undefined;
  let standInIds: string[] = [];
  /** Module id -> the secrets it reads, and their envelopes: found at buildEnd. */
  let reads = new Map<string, readonly string[]>();
  let envelopes: Readonly<Record<string, string>> = {};
  let scanned: Promise<void> = Promise.resolve();

  /** Reads and scans the importers of the stand-in; rejects with the first problem and its file. */
  async function scanImporters(importers: Iterable<string>, browser: boolean, isEntry: (id: string) => boolean): Promise<void> {
    await new Promise((ok) => setImmediate(ok)); // let buildEnd return first
    for (const id of importers) {
      const file = cleanId(id);
      if (id.startsWith(RESOLVED_PREFIX) || !isAbsolute(file)) continue;
      if (!filter(file)) {
        const problem = ctx.importerProblem(file);
        if (problem) throw new ScanFailure(problem, file);
        continue;
      }
      let code: string;
      try {
        code = readFileSync(file, "utf8");
      } catch {
        continue; // not a file on disk: another plugin's module
      }
      if (!mentionsRuntime(code)) {
        const problem = ctx.importerProblem(file, code);
        if (problem) throw new ScanFailure(problem, file);
        continue;
      }
      try {
        const a = await ctx.analyze(code, file, { browser, entry: () => isEntry(id) });
        if (a.names.length > 0) reads.set(id, a.names);
      } catch (error) {
        throw new ScanFailure(error, file);
      }
    }
    if (reads.size > 0) envelopes = await ctx.envelopes(new Set([...reads.values()].flat()));
  }

  return {
    name: "sealkit",
    enforce: "pre",
    async buildStart(this: { addWatchFile(id: string): void }) {
      ctx.startBuild({ browser: false });
      reads = new Map();
      envelopes = {};
      scanned = Promise.resolve();
      await ctx.writeDts();
      // `vite build --watch`: a changed store (a name added, a rotation) rebuilds; the
      // stand-in and the queued envelopes are made from it afresh in every build.
      const store = ctx.storePath();
      if (standIn && store) this.addWatchFile(store);
      if (standIn) {
        writeIfChanged(standIn, await ctx.standIn());
        standInIds = [...new Set([standIn, realpathSync(standIn)])];
      }
    },
    // Typed structurally: Vite 7 (Rollup types) and Vite 8 (Rolldown types) differ in detail.
    vite: {
      config(_config: unknown, env: { command: string }) {
        if (env.command !== "build") return null;
        standIn = standInPath(ctx.options.root, typeof ctx.options.store === "string" ? ctx.options.store : "");
        return { resolve: { alias: [{ find: /^@sealkit\/runtime$/, replacement: standIn }] } };
      },
      // Bundlers test `external` before any resolve hook or alias: a runtime marked external
      // would never reach the stand-in. Let "@sealkit/runtime" through, and keep the runtime
      // itself external under its second name, as the user asked.
      options(opts: { external?: ExternalOption }) {
        const ext = opts.external;
        if (!standIn || ext === undefined || !isExternal(ext, RUNTIME_MODULE, undefined, false)) return null;
        return {
          ...opts,
          external: (id: string, importer: string | undefined, isResolved: boolean) =>
            id === RUNTIME_MODULE ? false : id === RUNTIME_SELF || isExternal(ext, id, importer, isResolved),
        };
      },
      configResolved(config: { build?: { ssr?: unknown }; resolve?: { alias?: readonly { find: string | RegExp; replacement: string }[] } }) {
        viteSsr = Boolean(config.build?.ssr);
        // Another alias for the runtime would bypass the stand-in (the bundle would carry no
        // envelope) or break its import of the runtime's second name.
        const other = standIn ? config.resolve?.alias?.find((a) => a.replacement !== standIn && aliasMatches(a.find, RUNTIME_MODULE)) : undefined;
        if (other) {
          throw new SealkitError(
            "E_CONFIG",
            `sealkit plugin: resolve.alias maps "${RUNTIME_MODULE}" to ${JSON.stringify(other.replacement)}, but Vite builds need the plugin's own alias for it (its stand-in registers the bundle's secrets). To use another copy of the runtime, alias "${RUNTIME_SELF}" alone: the stand-in imports the runtime by that name.`,
          );
        }
      },
      // The scan is not awaited here: it runs on the main thread, idle while Rolldown links
      // and tree-shakes in its own threads, and `renderStart` waits for it (and reports its
      // errors) before any chunk needs the envelopes.
      buildEnd(this: RollupLikeContext, error?: unknown) {
        if (error || !standIn) return;
        const importers = new Set<string>();
        for (const id of standInIds) {
          const info = this.getModuleInfo(id);
          for (const i of [...(info?.importers ?? []), ...(info?.dynamicImporters ?? [])]) importers.add(i);
        }
        const browser = isBrowserEnvironment(this, viteSsr);
        scanned = scanImporters(importers, browser, (id) => this.getModuleInfo(id)?.isEntry === true);
        scanned.catch(() => undefined); // awaited, and reported, in renderStart
      },
      async renderStart(this: RollupLikeContext) {
        try {
          await scanned;
        } catch (e) {
          if (!(e instanceof ScanFailure)) throw e;
          rollupError(this, e.error, e.file);
        }
      },
      intro(chunk: { moduleIds: readonly string[] }) {
        const names = new Set<string>();
        for (const id of chunk.moduleIds) for (const n of reads.get(id) ?? []) names.add(n);
        if (names.size === 0) return "";
        return queuedEnvelopesSource(Object.fromEntries([...names].sort().map((n) => [n, envelopes[n] as string])));
      },
      writeBundle: rollupWriteBundle(ctx, (id) => reads.get(id) ?? []),
    } as never,
  };
}

/** Vite's alias matching: a string matches itself and its subpaths, a RegExp what it tests. */
function aliasMatches(find: string | RegExp, id: string): boolean {
  return typeof find === "string" ? id === find || id.startsWith(`${find}/`) : find.test(id);
}

type ExternalOption = string | RegExp | readonly (string | RegExp)[] | ((id: string, importer: string | undefined, isResolved: boolean) => unknown);

function isExternal(ext: ExternalOption, id: string, importer: string | undefined, isResolved: boolean): boolean {
  if (typeof ext === "function") return Boolean(ext(id, importer, isResolved));
  const list = typeof ext === "string" || ext instanceof RegExp ? [ext] : ext;
  return list.some((e) => (typeof e === "string" ? e === id : e.test(id)));
}

/** A problem the scan found in one importer, carried from buildEnd to renderStart. */
class ScanFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly file: string,
  ) {
    super("scan failed");
  }
}

interface RollupLikeContext {
  getModuleInfo(id: string): { importers: readonly string[]; dynamicImporters: readonly string[]; isEntry?: boolean } | null;
  error(e: never): unknown;
  environment?: { config?: { consumer?: string } };
}

/** Vite 6+ tells each hook which environment (client or server) it builds for. */
function isBrowserEnvironment(context: RollupLikeContext, viteSsr: boolean | undefined): boolean {
  const consumer = context.environment?.config?.consumer;
  return consumer ? consumer === "client" : viteSsr === false;
}

/** One stand-in per project and store, so parallel builds of other stores never share it. */
function standInPath(root: string, store: string): string {
  const tag = createHash("sha256").update(`${root}\0${store}`).digest("base64url").slice(0, 16);
  return join(moduleDir(root, "vite"), `runtime-${tag}.mjs`);
}

/** Targets that mean "runs in a browser" (webworker is not one: Workers-style runtimes use it). */
export function isBrowserTarget(target: unknown): boolean {
  const list = Array.isArray(target) ? target : [target];
  return list.some((t) => typeof t === "string" && /^(web|browserslist|electron-renderer.*|nwjs.*|node-webkit.*)$/.test(t));
}

interface OutputOptionsLike {
  dir?: string | undefined;
  file?: string | undefined;
}
type BundleLike = Record<string, { type: "chunk"; moduleIds: readonly string[]; imports: readonly string[] } | { type: "asset" }>;

function outDirOf(out: OutputOptionsLike): string {
  return resolve(out.dir ?? (out.file ? dirname(out.file) : "dist"));
}

/** The secret a module registers: the virtual secret modules of the transform design. */
function virtualSecretOf(moduleId: string): string[] {
  const v = parseVirtualId(moduleId);
  return v?.kind === "secret" ? [v.name as string] : [];
}

function rollupOutputs(out: OutputOptionsLike, bundle: BundleLike, readsOf: (moduleId: string) => Iterable<string>): OutputSecrets[] {
  const own = new Map<string, Set<string>>();
  for (const [fileName, chunk] of Object.entries(bundle)) {
    if (chunk.type !== "chunk") continue;
    const names = new Set<string>();
    for (const id of chunk.moduleIds) for (const n of readsOf(id)) names.add(n);
    own.set(fileName, names);
  }
  // An output needs what it carries plus what the chunks it imports carry.
  const closure = (fileName: string, seen = new Set<string>()): Set<string> => {
    const acc = new Set<string>();
    if (seen.has(fileName)) return acc;
    seen.add(fileName);
    for (const n of own.get(fileName) ?? []) acc.add(n);
    const chunk = bundle[fileName];
    if (chunk?.type === "chunk") for (const imp of chunk.imports) for (const n of closure(imp, seen)) acc.add(n);
    return acc;
  };
  const dir = outDirOf(out);
  return [...own.keys()].map((f) => ({ file: resolve(dir, f), secrets: closure(f) }));
}

/* ---------------------------------------------------------------------------------------
 * webpack and Rspack: the manifest after emit, from the chunk graph.
 * ------------------------------------------------------------------------------------- */

interface WebpackLikeCompiler {
  options: { module: { rules: unknown[] } };
  hooks: { afterEmit: { tapPromise(name: string, fn: (compilation: WebpackLikeCompilation) => Promise<void>): void } };
}
interface WebpackLikeModule {
  resource?: string;
  modules?: Iterable<WebpackLikeModule>;
  identifier(): string;
}
interface WebpackLikeChunkGroup {
  chunks: readonly WebpackLikeChunk[];
  isInitial?(): boolean;
  getEntrypointChunk?(): WebpackLikeChunk;
}
interface WebpackLikeChunk {
  files: Iterable<string>;
  groupsIterable?: Iterable<WebpackLikeChunkGroup>;
}
interface WebpackLikeCompilation {
  chunks: Iterable<WebpackLikeChunk>;
  chunkGraph: { getChunkModulesIterable(chunk: unknown): Iterable<WebpackLikeModule> };
  outputOptions: { path?: string };
  errors: unknown[];
}

function webpackLike(ctx: SealkitContext, compiler: WebpackLikeCompiler): void {
  // The envelopes arrive through side-effect imports of the virtual modules, which unplugin
  // keeps as files in the project's directory. A project whose package.json says
  // `"sideEffects": false` would let webpack and Rspack drop those imports, and the bundle
  // would build without its envelopes: a module rule has the last word over package.json.
  compiler.options.module.rules.push({ test: VIRTUAL_RESOURCE, sideEffects: true });
  compiler.hooks.afterEmit.tapPromise("sealkit", async (compilation) => {
    if (compilation.errors.length > 0) return;
    const outDir = resolve(compilation.outputOptions.path ?? "dist");
    const own = new Map<WebpackLikeChunk, Set<string>>();
    for (const chunk of compilation.chunks) {
      const names = new Set<string>();
      const visit = (m: WebpackLikeModule) => {
        // production builds concatenate modules: look inside
        for (const inner of m.modules ?? []) visit(inner);
        const v = parseVirtualId(safeDecode(m.resource ?? m.identifier()));
        if (v?.kind === "secret") names.add(v.name as string);
      };
      for (const m of compilation.chunkGraph.getChunkModulesIterable(chunk)) visit(m);
      own.set(chunk, names);
    }
    // An entry's file needs the secrets of every chunk loaded with it (split chunks), as
    // Rollup's and esbuild's outputs list those of the chunks they import; a chunk loaded
    // with import() is listed on its own.
    const outputs: OutputSecrets[] = [];
    for (const [chunk, names] of own) {
      const secrets = new Set(names);
      for (const group of chunk.groupsIterable ?? []) {
        if (group.isInitial?.() !== true || group.getEntrypointChunk?.() !== chunk) continue;
        for (const other of group.chunks) for (const n of own.get(other) ?? []) secrets.add(n);
      }
      for (const f of chunk.files) if (JS_OUTPUT.test(f)) outputs.push({ file: resolve(outDir, f), secrets });
    }
    await ctx.writeManifest(outputs, outDir);
    try {
      await ctx.scanOutput(outDir);
    } catch (e) {
      compilation.errors.push(e);
    }
  });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/* ---------------------------------------------------------------------------------------
 * esbuild: no per-file hook. JavaScript runs only for files that import the runtime.
 * ------------------------------------------------------------------------------------- */

function setupEsbuild(ctx: SealkitContext, build: PluginBuild): void {
  const opts = build.initialOptions;
  // esbuild's default platform is "browser", yet most function builds leave it unset:
  // only an explicit platform: "browser" counts as a browser-targeted bundle.
  const browser = opts.platform === "browser";
  const wantedMetafile = opts.metafile === true;
  // One output file (outfile: one entry, no splitting) holds every module the build loads,
  // so its secrets are the secret modules loaded; other layouts need the metafile's map of
  // which inputs went to which output (asking for it costs esbuild 5–10 ms per 2,000 modules).
  const single = typeof opts.outfile === "string" && !wantedMetafile;
  if (!single) opts.metafile = true;
  const filter = (id: string) => matchesFilter(id, ctx.options.include, ctx.options.exclude);
  const root = resolve(opts.absWorkingDir ?? process.cwd());
  const entryPoints = opts.entryPoints ?? [];
  const entries = new EntryFiles(
    (Array.isArray(entryPoints) ? entryPoints : Object.values(entryPoints)).map((e) => resolve(root, typeof e === "string" ? e : e.in)),
  );
  let analyses = new Map<string, Promise<Analysis>>();
  let loaded = new Set<string>();

  // Watch mode and `rebuild()`: a result built from the store names it in `watchFiles`, so
  // `sealkit set` or `rotate` starts a rebuild (also after a build failed on the store).
  // esbuild watches the union of all results' files and every callback runs again in the
  // rebuild, so the first such result of each build carries it, not all ~350 of them.
  let storeWatched = false;
  const storeFiles = (): string[] => {
    const path = ctx.storePath();
    if (!path || storeWatched) return [];
    storeWatched = true;
    return [path];
  };

  build.onStart(async () => {
    // Without bundling esbuild resolves no import, so the plugin never runs: the output would
    // keep `import … from "@sealkit/runtime"` with no envelope, and fail at its first read.
    if (opts.bundle !== true) {
      return {
        errors: [
          {
            pluginName: "sealkit",
            text: "the sealkit plugin needs bundle: true: esbuild resolves no imports without it, so no envelope could be added. Bundle this build, or drop the plugin from a build whose files read no secret",
          },
        ],
      };
    }
    ctx.startBuild({ browser });
    analyses = new Map();
    loaded = new Set();
    storeWatched = false;
    await ctx.writeDts();
    return undefined;
  });

  build.onResolve({ filter: /^@sealkit\/runtime$/, namespace: "file" }, async (args) => {
    if (!args.importer || !isAbsolute(args.importer)) return undefined;
    if (!filter(args.importer)) {
      const problem = ctx.importerProblem(args.importer);
      return problem ? { errors: [esbuildMessage(problem)] } : undefined;
    }
    let pending = analyses.get(args.importer);
    if (!pending) {
      const importer = args.importer;
      pending = (async () => {
        // Synchronous: a small file reads in microseconds, fs/promises takes four round trips.
        const code = readFileSync(importer, "utf8");
        const problem = mentionsRuntime(code) ? undefined : ctx.importerProblem(importer, code);
        if (problem) throw problem;
        return ctx.analyze(code, importer, { entry: () => entries.has(importer) });
      })();
      analyses.set(args.importer, pending);
    }
    try {
      const a = await pending;
      if (a.names.length === 0) return undefined;
      const resolveDir = dirname(args.importer);
      // An importer that reads one secret (most do) gets that secret's module, which also
      // re-exports the runtime: one module fewer per name than a stand-in importing it.
      if (a.names.length === 1) {
        return { path: secretModuleId(a.storeId as string, a.names[0] as string), namespace: "sealkit", pluginData: { resolveDir }, watchFiles: storeFiles() };
      }
      // Otherwise one stand-in per directory and set of names: importers that read the same
      // secrets share it, so esbuild loads and links it once (the runtime resolves from there).
      return { path: `${resolveDir}?${a.names.join(",")}`, namespace: "sealkit-runtime", pluginData: { analysis: a, resolveDir }, watchFiles: storeFiles() };
    } catch (e) {
      return { errors: [esbuildMessage(e)], watchFiles: storeFiles() };
    }
  });
  build.onLoad({ filter: /.*/, namespace: "sealkit-runtime" }, (args) => {
    const data = args.pluginData as { analysis: Analysis; resolveDir: string };
    return { contents: ctx.runtimeProxy(data.analysis), resolveDir: data.resolveDir, loader: "js" };
  });
  build.onResolve({ filter: VIRTUAL_SPECIFIER }, (args) => ({
    path: args.path,
    namespace: "sealkit",
    pluginData: { resolveDir: args.resolveDir || root },
  }));
  build.onLoad({ filter: /.*/, namespace: "sealkit" }, async (args) => {
    try {
      const contents = await ctx.load(args.path);
      if (contents === undefined) return undefined;
      const v = parseVirtualId(args.path);
      if (v?.kind === "secret") loaded.add(v.name as string);
      // A secret module may stand in for the runtime (above): it re-exports it.
      return {
        contents: v?.kind === "secret" ? `${contents}export * from ${JSON.stringify(RUNTIME_MODULE)};\n` : contents,
        resolveDir: (args.pluginData as { resolveDir?: string } | undefined)?.resolveDir ?? root,
        loader: "js",
        watchFiles: storeFiles(),
      };
    } catch (e) {
      return { errors: [esbuildMessage(e)], watchFiles: storeFiles() };
    }
  });
  build.onEnd(async (result) => {
    if (result.errors.length > 0 || (!single && !result.metafile)) return;
    const outfile = single ? resolve(root, opts.outfile as string) : undefined;
    const outputs = outfile ? (JS_OUTPUT.test(outfile) ? [{ file: outfile, secrets: loaded }] : []) : esbuildOutputs(result.metafile as Metafile, root);
    const outDir = opts.outdir ? resolve(root, opts.outdir) : opts.outfile ? dirname(resolve(root, opts.outfile)) : root;
    if (opts.write !== false || ctx.options.manifest) await ctx.writeManifest(outputs, outDir);
    if (!wantedMetafile) delete (result as { metafile?: Metafile }).metafile;
    if (opts.write !== false) {
      try {
        await ctx.scanOutput(outDir);
      } catch (e) {
        return { errors: [esbuildMessage(e)] };
      }
    }
    return undefined;
  });
}

function esbuildOutputs(metafile: Metafile, root: string): OutputSecrets[] {
  const own = new Map<string, Set<string>>();
  for (const [file, out] of Object.entries(metafile.outputs)) {
    if (!JS_OUTPUT.test(file)) continue;
    const names = new Set<string>();
    for (const input of Object.keys(out.inputs)) {
      const v = parseVirtualId(input.replace(/^sealkit:/, ""));
      if (v?.kind === "secret") names.add(v.name as string);
    }
    own.set(file, names);
  }
  const closure = (file: string, seen = new Set<string>()): Set<string> => {
    const acc = new Set<string>(own.get(file) ?? []);
    if (seen.has(file)) return acc;
    seen.add(file);
    for (const imp of metafile.outputs[file]?.imports ?? []) {
      if (!imp.external && own.has(imp.path)) for (const n of closure(imp.path, seen)) acc.add(n);
    }
    return acc;
  };
  return [...own.keys()].map((f) => ({ file: resolve(root, f), secrets: closure(f) }));
}

function esbuildMessage(e: unknown): PartialMessage {
  if (!isSealkitError(e)) return { text: String((e as Error)?.message ?? e), pluginName: "sealkit" };
  const d = detailsOf(e);
  return {
    id: e.code,
    pluginName: "sealkit",
    text: d ? d.reason : e.message,
    location: d ? { file: d.file, line: d.line, column: d.column, lineText: d.lineText, length: d.length } : null,
    detail: e,
  };
}

/**
 * The files of a bundle's entries, as configured (paths, maybe without their extension).
 * A module is an entry when its file is one of them, or one of them plus an extension.
 */
class EntryFiles {
  private readonly files: Set<string>;
  constructor(files: Iterable<string>) {
    this.files = new Set(files);
  }
  has(file: string): boolean {
    return this.files.has(file) || this.files.has(file.replace(/\.[^./\\]+$/, ""));
  }
}

/**
 * webpack's and Rspack's entries (normalized options: `{ name: { import: [request] } }`),
 * resolved against `context` when they are paths; a function (dynamic entries) gives none.
 */
function entryFiles(options: { context?: string; entry?: unknown }): EntryFiles {
  const context = resolve(options.context ?? process.cwd());
  const requests: string[] = [];
  const add = (e: unknown) => {
    if (typeof e === "string") requests.push(e);
    else if (Array.isArray(e)) for (const x of e) add(x);
    else if (e && typeof e === "object") {
      const o = e as { import?: unknown };
      if ("import" in o) add(o.import);
      else for (const v of Object.values(o)) add(v);
    }
  };
  if (typeof options.entry !== "function") add(options.entry);
  return new EntryFiles(requests.filter((r) => r.startsWith(".") || isAbsolute(r)).map((r) => resolve(context, r)));
}
