import { matchesGlob, resolve } from "node:path";
import { SealkitError } from "@sealkit/envelope";
import { DEFAULT_STORE_FILE } from "@sealkit/store";

export type FilterPattern = string | RegExp | readonly (string | RegExp)[];

export interface Options {
  /**
   * The store file: a path, or one path per environment (`{ production: "prod.secrets.json",
   * default: "sealkit.secrets.json" }`) picked by `env`. Default: `$SEALKIT_STORE`, else
   * `sealkit.secrets.json` in `root`.
   */
  store?: string | Readonly<Record<string, string>>;
  /** Which entry of a per-environment `store` to use. Default: `$SEALKIT_ENV`, else `$NODE_ENV`, else `default`. */
  env?: string;
  /**
   * Where to write the build manifest, or `false` for none. Default:
   * `sealkit-manifest.json` in the bundler's output directory.
   */
  manifest?: string | false;
  /**
   * Where to write the `.d.ts` that types secret names, `true` for `sealkit-env.d.ts` in
   * `root`, `false` for none. Default: `true` when `root` has a tsconfig.json.
   */
  dts?: string | boolean;
  /** Files to look at. Default: .ts .tsx .js .jsx .mjs .cjs .mts .cts. */
  include?: FilterPattern;
  /** Files to skip. Default: node_modules. */
  exclude?: FilterPattern;
  /**
   * Allow `secret()` in a browser-targeted bundle. Off by default: a browser cannot unwrap
   * a data key without shipping key-service rights to every visitor.
   */
  allowBrowser?: boolean;
  /** Directory relative paths start from. Default: the working directory. */
  root?: string;
  /**
   * At the end of a build, open every value of the store and fail the build (E_LEAK) if
   * any appears in the output directory, raw, base64, base64url, hex or URL-encoded. Needs
   * unwrap rights on a master key, so it is off by default (builds need no key rights).
   * `{ minLength }` skips values shorter than that (default 8 bytes).
   */
  scan?: boolean | { minLength?: number };
}

export interface ResolvedOptions {
  root: string;
  /** Absolute store path, or an error to report when a secret is first needed. */
  store: string | SealkitError;
  manifest: string | false | undefined;
  dts: string | false;
  include: FilterPattern;
  exclude: FilterPattern;
  allowBrowser: boolean;
  scan: false | { minLength?: number };
}

export const DEFAULT_INCLUDE: RegExp = /\.[cm]?[jt]sx?$/;
export const DEFAULT_EXCLUDE: RegExp = /[\\/]node_modules[\\/]/;
export const DEFAULT_DTS_FILE = "sealkit-env.d.ts";
export const MANIFEST_FILE = "sealkit-manifest.json";

export function resolveOptions(o: Options = {}, hasTsconfig: (root: string) => boolean = () => false): ResolvedOptions {
  if (o === null || typeof o !== "object") throw new SealkitError("E_CONFIG", "sealkit plugin: options must be an object");
  const root = resolve(o.root ?? process.cwd());
  return {
    root,
    store: pickStore(o, root),
    manifest: o.manifest === false ? false : o.manifest === undefined ? undefined : resolve(root, o.manifest),
    dts:
      o.dts === false || (o.dts === undefined && !hasTsconfig(root))
        ? false
        : typeof o.dts === "string"
          ? resolve(root, o.dts)
          : resolve(root, DEFAULT_DTS_FILE),
    include: o.include ?? DEFAULT_INCLUDE,
    exclude: o.exclude ?? DEFAULT_EXCLUDE,
    allowBrowser: o.allowBrowser === true,
    scan: resolveScan(o.scan),
  };
}

function pickStore(o: Options, root: string): string | SealkitError {
  const s = o.store;
  if (s === undefined) return resolve(root, process.env.SEALKIT_STORE || DEFAULT_STORE_FILE);
  if (typeof s === "string") return resolve(root, s);
  if (typeof s !== "object" || s === null) {
    return new SealkitError("E_CONFIG", "sealkit plugin: `store` must be a path or an object mapping environments to paths");
  }
  const env = o.env ?? process.env.SEALKIT_ENV ?? process.env.NODE_ENV ?? "default";
  const path = s[env] ?? s.default;
  if (typeof path !== "string") {
    return new SealkitError(
      "E_CONFIG",
      `sealkit plugin: no store for environment "${env}"; add it to the \`store\` option, or set SEALKIT_ENV to one of ${Object.keys(s).map((k) => `"${k}"`).join(", ")}`,
      { details: { env } },
    );
  }
  return resolve(root, path);
}

/** Rollup-style include/exclude: a RegExp tests the id, a string is a glob over the path. */
export function matchesFilter(id: string, include: FilterPattern, exclude: FilterPattern): boolean {
  return matchesPattern(id, include) && !matchesPattern(id, exclude);
}

export function matchesPattern(id: string, pattern: FilterPattern): boolean {
  return (Array.isArray(pattern) ? pattern : [pattern]).some((x: string | RegExp) =>
    typeof x === "string" ? matchesGlob(id, resolve(x)) || matchesGlob(id, x) : x.test(id),
  );
}

function resolveScan(v: Options["scan"]): ResolvedOptions["scan"] {
  if (v === undefined || v === false) return false;
  if (v === true) return {};
  if (typeof v === "object" && v !== null && (v.minLength === undefined || (Number.isInteger(v.minLength) && v.minLength >= 1))) {
    return v.minLength === undefined ? {} : { minLength: v.minLength };
  }
  throw new SealkitError("E_CONFIG", "sealkit plugin: `scan` must be true, false or { minLength: <positive integer> }");
}
