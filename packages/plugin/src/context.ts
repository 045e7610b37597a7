/**
 * The bundler-free core of the plugin. Every adapter (and every unit test) goes through
 * `createContext(options)`: `transform(code, id)` for bundlers with a transform pipeline,
 * `analyze(code, id)` for the esbuild and Vite designs that never transform user files,
 * `load(id)` for the virtual modules, `standIn()` and `envelopes(names)` for Vite, and the
 * manifest and `.d.ts` writers.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative } from "node:path";
import { SealkitError, type StoreFile, isSealkitError } from "@sealkit/envelope";
import { assertNoLeaks, didYouMeanHint, ensureProviders, readStoreFileSync, scanStoreForLeaks } from "@sealkit/store";
import MagicString from "magic-string";
import {
  keyModuleSource,
  parseVirtualId,
  providerModule,
  envelopesOf,
  runtimeProxySource,
  secretModuleId,
  secretModuleSource,
  standInSource,
} from "./codegen.js";
import { dtsSource } from "./dts.js";
import { buildError } from "./errors.js";
import { type Manifest, type OutputSecrets, manifestOf } from "./manifest.js";
import { DEFAULT_INCLUDE, type Options, type ResolvedOptions, matchesPattern, resolveOptions } from "./options.js";
import { lexScan } from "./lex-scan.js";
import { quickScan } from "./quick-scan.js";
import { RUNTIME_MODULE, type SecretRef, mentionsRuntime, parserOptions, scanModule } from "./scan.js";

export interface Analysis {
  /** Distinct names this module reads, in order of first use. */
  readonly names: readonly string[];
  readonly storeId: string | undefined;
  readonly commonjs: boolean;
  readonly registered: ReadonlySet<string>;
  readonly insertAt: number;
  readonly appendAt?: number | undefined;
}

/** What a bundle is built for; `browser` bundles may not carry secrets unless allowed. */
export interface Target {
  browser?: boolean;
  /**
   * The module is an entry of the bundle: it may export `secret` (to code outside the
   * bundle); elsewhere that is an error, since calls through it would go unseen. A function
   * is asked only when the module does export it (asking may cost a bundler call).
   */
  entry?: boolean | (() => boolean);
}

export interface TransformOutput {
  code: string;
  /** The source map of the change (made on first read). */
  readonly map: ReturnType<MagicString["generateMap"]>;
  /**
   * True when the change only added text at a line end, so every original character kept
   * its line and column: a bundler can take `map: null` (no change to the mappings).
   */
  readonly inPlace: boolean;
}

export interface SealkitContext {
  readonly options: ResolvedOptions;
  /** Start of a build: forget the cached store (it may have changed) and set the target. */
  startBuild(target?: Target): void;
  /** The store, read once per build. Throws E_BUILD with the store's problem. */
  store(): Promise<StoreFile>;
  /** The store file's absolute path, for watch mode; undefined when no store is selected. */
  storePath(): string | undefined;
  /** Changes whenever the store file does (size, modification time, inode; "none" when absent). */
  storeStamp(): string;
  /** Scans a module and checks every name against the store; throws E_BUILD at the first problem. */
  analyze(code: string, id: string, target?: Target): Promise<Analysis>;
  /**
   * Adds an import of the virtual module of each secret the module reads (or a `require`
   * in CommonJS), leaving the calls as they are. Undefined when nothing changes, so a
   * second run over its own output changes nothing.
   */
  transform(code: string, id: string, target?: Target): Promise<TransformOutput | undefined>;
  /** Source of a virtual module id (`sealkit~…`, resolved or not), else undefined. */
  load(id: string): Promise<string | undefined>;
  /**
   * For a file on disk that the bundler says imports the runtime: an E_BUILD error when the
   * plugin cannot see that file's secret() calls, undefined otherwise (also when the user's
   * `exclude` names the file: their word that it reads no secret). Two cases: a kind of file
   * the plugin cannot scan (`.vue`, `.svelte`, `.astro`…), and a source that does not import
   * the runtime itself, where another build plugin added the import (an auto-import).
   * `code` is the file's text when the caller has read it already.
   */
  importerProblem(file: string, code?: string): SealkitError | undefined;
  /** The esbuild stand-in for `@sealkit/runtime`, for one importer's names. */
  runtimeProxy(analysis: Analysis): string;
  /** The Vite stand-in for `@sealkit/runtime`: providers, data-key record, runtime. */
  standIn(): Promise<string>;
  /** The encoded envelopes of `names` (Vite queues them at the start of chunks). */
  envelopes(names: Iterable<string>): Promise<Record<string, string>>;
  /** Writes the manifest for these outputs (paths absolute); returns it, or undefined when disabled. */
  writeManifest(outputs: readonly OutputSecrets[], defaultDir: string): Promise<Manifest | undefined>;
  /** Writes the `.d.ts` of secret names when enabled and the store exists; true when the file changed. */
  writeDts(): Promise<boolean>;
  /** With the `scan` option: throws E_LEAK when a plaintext value appears under `outDir`. */
  scanOutput(outDir: string): Promise<void>;
}

export function createContext(userOptions: Options = {}): SealkitContext {
  const options = resolveOptions(userOptions, (root) => existsSync(`${root}/tsconfig.json`));
  let storePromise: Promise<StoreFile> | undefined;
  let browser = false;

  // A provider package may offer a `./runtime` entry for bundles (the AWS one carries only
  // its light client there, no SDK); use it when the project can resolve it.
  const entries = new Map<string, string>();
  const providerEntry = (provider: string): string => {
    let entry = entries.get(provider);
    if (!entry) {
      entry = providerModule(provider);
      if (provider !== "local") {
        try {
          createRequire(`${options.root}/package.json`).resolve(`${entry}/runtime`);
          entry = `${entry}/runtime`;
        } catch {
          // no runtime entry: the package itself registers the provider
        }
      }
      entries.set(provider, entry);
    }
    return entry;
  };

  const store = (): Promise<StoreFile> => {
    if (options.store instanceof SealkitError) return Promise.reject(options.store);
    // Synchronous read: a build hook waits on it, and fs/promises costs event-loop round trips.
    storePromise ??= new Promise((ok) => ok(readStoreFileSync(options.store as string)));
    return storePromise;
  };

  async function analyze(code: string, id: string, target?: Target): Promise<Analysis> {
    const file = cleanId(id);
    // Three paths, each sure of its answer or handing over: a tokenizer (most function code),
    // oxc's module record without a JavaScript AST, then the full parse with scopes.
    const scan = lexScan(code, file) ?? quickScan(code, file, parserOptions(file)) ?? scanModule(code, file);
    let first = scan.problems[0];
    if (first && target?.entry && scan.problems.some((p) => p.kind === "reexport")) {
      const entry = typeof target.entry === "function" ? target.entry() : target.entry;
      if (entry) first = scan.problems.find((p) => p.kind !== "reexport");
    }
    if (first) {
      const why = first.kind === "syntax" ? `cannot parse this file to look for secret() calls: ${first.message}` : first.message;
      throw buildError(why, code, file, first.start, first.end);
    }
    if (scan.refs.length === 0) {
      return { names: [], storeId: undefined, commonjs: scan.commonjs, registered: scan.registered, insertAt: scan.insertAt, appendAt: scan.appendAt };
    }
    const at = (ref: SecretRef, message: string) => buildError(message, code, file, ref.argStart, ref.end - 1);
    const ref0 = scan.refs[0] as SecretRef;
    if ((target?.browser ?? browser) && !options.allowBrowser) {
      throw at(
        ref0,
        "secret() in a browser-targeted bundle: a browser cannot unwrap a data key without shipping key-service rights to every visitor. Build this code for a server target (esbuild platform: node, Vite SSR, webpack target: node), or pass allowBrowser: true to the plugin if this bundle runs somewhere trusted",
      );
    }
    let s: StoreFile;
    try {
      s = await store();
    } catch (e) {
      const why = isSealkitError(e) ? e.message : String((e as Error)?.message ?? e);
      throw at(ref0, `cannot read the Sealkit store needed for secret("${ref0.name}"): ${why}`);
    }
    const names: string[] = [];
    for (const ref of scan.refs) {
      if (!s.secrets[ref.name]) {
        const storeFile = relative(options.root, options.store as string) || (options.store as string);
        throw at(
          ref,
          `no secret named "${ref.name}" in ${storeFile}${didYouMeanHint(ref.name, Object.keys(s.secrets))} To add it: printf %s "$VALUE" | sealkit set ${ref.name}`,
        );
      }
      if (!names.includes(ref.name)) names.push(ref.name);
    }
    return { names, storeId: s.storeId, commonjs: scan.commonjs, registered: scan.registered, insertAt: scan.insertAt, appendAt: scan.appendAt };
  }

  return {
    options,
    startBuild(target) {
      storePromise = undefined;
      browser = target?.browser === true;
    },
    store,
    storePath: () => (typeof options.store === "string" ? options.store : undefined),
    storeStamp() {
      if (typeof options.store !== "string") return "none";
      const st = statSync(options.store, { throwIfNoEntry: false, bigint: true });
      return st ? `${st.size}:${st.mtimeNs}:${st.ino}` : "none";
    },
    analyze,
    async transform(code, id, target) {
      if (!mentionsRuntime(code)) return undefined;
      const a = await analyze(code, id, target);
      const missing = a.names.map((n) => secretModuleId(a.storeId as string, n)).filter((m) => !a.registered.has(m));
      if (missing.length === 0) return undefined;
      const lines = missing.map((m) => (a.commonjs ? `require(${JSON.stringify(m)});` : `import ${JSON.stringify(m)};`));
      // One line, so no original line moves: source maps stay exact line-for-line.
      let text = lines.join("");
      let at = a.insertAt;
      const inPlace = !a.commonjs && a.appendAt !== undefined;
      if (inPlace) {
        // At the end of the runtime import's line: no original character moves at all.
        at = a.appendAt as number;
        if (!/;[ \t]*$/.test(code.slice(Math.max(0, at - 64), at))) text = `;${text}`;
      }
      const out = code.slice(0, at) + text + code.slice(at);
      let map: TransformOutput["map"] | undefined;
      return {
        code: out,
        inPlace,
        get map() {
          if (!map) {
            const s = new MagicString(code);
            if (at > 0) s.appendLeft(at, text);
            else s.prepend(text);
            map = s.generateMap({ hires: "boundary", source: cleanId(id), includeContent: true });
          }
          return map;
        },
      };
    },
    async load(id) {
      const v = parseVirtualId(id);
      if (!v) return undefined;
      const s = await store();
      if (s.storeId !== v.storeId) {
        throw new SealkitError("E_BUILD", `a module asks for store ${v.storeId}, but this build uses store ${s.storeId}: rebuild from a clean state`);
      }
      return v.kind === "key" ? keyModuleSource(s, providerEntry) : secretModuleSource(s, v.name as string);
    },
    importerProblem(file, code) {
      if (!isAbsolute(file) || matchesPattern(file, options.exclude)) return undefined;
      let text = code;
      try {
        text ??= readFileSync(file, "utf8");
      } catch {
        return undefined; // not a file on disk: another plugin's module
      }
      if (!DEFAULT_INCLUDE.test(file)) {
        const at = Math.max(0, text.indexOf(RUNTIME_MODULE));
        return buildError(
          `this file imports ${RUNTIME_MODULE}, but the plugin finds secret() calls only in .ts, .tsx, .js, .jsx, .mjs and .cjs files, so calls here would build without their envelopes. Move the secret() calls into a .ts or .js module and import that from here, or add this file to the plugin's exclude option if it reads no secret`,
          text,
          file,
          at,
          at + RUNTIME_MODULE.length,
        );
      }
      if (mentionsRuntime(text)) return undefined;
      return buildError(
        `this module imports ${RUNTIME_MODULE}, but its source does not: another build plugin added the import (an auto-import?), and the plugin reads secret() calls from the source, so calls here would build without their envelopes. Import secret from "${RUNTIME_MODULE}" in this file`,
        text,
        file,
        0,
      );
    },
    runtimeProxy(a) {
      return runtimeProxySource(a.storeId as string, a.names);
    },
    async standIn() {
      return standInSource(await store().catch(() => undefined), providerEntry);
    },
    async envelopes(names) {
      return envelopesOf(await store(), names);
    },
    async writeManifest(outputs, defaultDir) {
      if (options.manifest === false) return undefined;
      const path = options.manifest ?? `${defaultDir}/sealkit-manifest.json`;
      const used = outputs.some((o) => o.secrets.size > 0);
      const s = used ? await store() : undefined;
      const manifest = manifestOf(outputs, s, dirname(path), options.store instanceof SealkitError ? undefined : options.store);
      // Synchronous, like the store read: a small file, written while the bundler waits.
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
      return manifest;
    },
    async scanOutput(outDir) {
      if (options.scan === false || options.store instanceof SealkitError) return;
      const s = await store();
      await ensureProviders(
        s.keys.map((k) => k.provider),
        options.store,
        [`${options.root}/package.json`, import.meta.url],
      );
      assertNoLeaks(await scanStoreForLeaks(options.store, outDir, options.scan));
    },
    async writeDts() {
      if (options.dts === false || options.store instanceof SealkitError || !existsSync(options.store)) return false;
      const s = await store();
      const text = dtsSource(Object.keys(s.secrets), relative(dirname(options.dts), options.store));
      const old = await readFile(options.dts, "utf8").catch(() => undefined);
      if (old === text) return false;
      await writeFile(options.dts, text);
      return true;
    },
  };
}

/** Strips bundler query suffixes (`?v=123`) so offsets and names refer to the file. */
export function cleanId(id: string): string {
  return id.replace(/[?#].*$/, "");
}
