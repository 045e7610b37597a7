/**
 * Watch mode: the store is an input of the build. With each bundler watching, a build that
 * failed on an unknown name succeeds once `sealkit set` adds it, a rotation rebuilds with the
 * new data-key record and envelopes (a stale one would not open: the generation is in the
 * AAD), and a changed value reaches the bundle, all without touching a source file.
 */
import { join } from "node:path";
import { rspack } from "@rspack/core";
import sealkitEsbuild from "@sealkit/plugin/esbuild";
import sealkitRollup from "@sealkit/plugin/rollup";
import sealkitRspack from "@sealkit/plugin/rspack";
import sealkitVite from "@sealkit/plugin/vite";
import sealkitWebpack from "@sealkit/plugin/webpack";
import { removeSecret, rotateStore, setSecrets } from "@sealkit/store";
import * as esbuild from "esbuild";
import { watch as rollupWatch } from "rollup";
import { build as viteBuild } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import webpack from "webpack";
import { type Project, VALUES, makeProject, runBundle } from "./_support.js";

/** What the watcher reported so far: when each build started and ended, and the last end's error text. */
class Builds {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  lastError: string | undefined;
  start(): void {
    this.starts.push(Date.now());
  }
  end(error?: string): void {
    this.ends.push(Date.now());
    this.lastError = error;
  }
  /**
   * Waits for a build that started at or after `since` (a change made then) to end, and for
   * the watcher to stay quiet: a build that was already running when the change was made
   * (webpack rebuilds once right after starting to watch) does not count.
   */
  async settledAfter(since: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = this.starts.length === this.ends.length;
      const last = this.ends[this.ends.length - 1] ?? 0;
      // a second of quiet: Vite rebuilds once more after a rotation (its stand-in changed), and
      // the output must not be read while that build rewrites it
      if (done && this.starts.some((t) => t >= since) && Date.now() - last > 1000) return;
      if (Date.now() > deadline) throw new Error(`no rebuild within ${timeoutMs} ms (started ${this.starts.length}, ended ${this.ends.length})`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }
}

interface Watching {
  builds: Builds;
  out: string;
  close(): Promise<void>;
}

type Options = { root: string; dts: false; manifest: false };

interface RollupLikeWatcher {
  on(event: "event", fn: (e: { code: string; error?: { message: string }; result?: { close(): Promise<void> } | null }) => void): void;
  close(): Promise<void>;
}

function rollupEvents(w: RollupLikeWatcher, builds: Builds): void {
  w.on("event", (e) => {
    if (e.code === "BUNDLE_START") builds.start();
    if (e.code === "BUNDLE_END") builds.end();
    if (e.code === "ERROR") builds.end(e.error?.message ?? "error");
    void e.result?.close();
  });
}

type WebpackLike = (config: never) => {
  hooks: { watchRun: { tap(name: string, fn: () => void): void } };
  watch(o: object, cb: (err: Error | null, stats?: { hasErrors(): boolean; toJson(o: object): { errors?: { message: string }[] } }) => void): { close(cb: () => void): void };
};

function webpackLike(run: WebpackLike, plugin: (o: Options) => unknown, swc: boolean) {
  return async (entry: string, out: string, options: Options): Promise<Watching> => {
    const builds = new Builds();
    const compiler = run({
      mode: "none",
      target: "node",
      context: options.root,
      entry,
      output: { path: out, filename: "w.cjs", library: { type: "commonjs2" } },
      resolve: { extensions: [".ts", ".js"] },
      module: { rules: swc ? [{ test: /\.ts$/, loader: "builtin:swc-loader", options: { jsc: { parser: { syntax: "typescript" } } } }] : [] },
      plugins: [plugin(options)],
    } as never);
    compiler.hooks.watchRun.tap("test", () => builds.start());
    const watching = compiler.watch({ aggregateTimeout: 50 }, (err, stats) => {
      const errors = err ? [err.message] : (stats?.toJson({ all: false, errors: true }).errors ?? []).map((e) => e.message);
      builds.end(errors.length > 0 ? errors.join("\n") : undefined);
    });
    return { builds, out: join(out, "w.cjs"), close: () => new Promise((ok) => watching.close(() => ok())) };
  };
}

const BUNDLERS: { name: string; watch(entry: string, out: string, options: Options): Promise<Watching> }[] = [
  {
    name: "esbuild",
    async watch(entry, out, options) {
      const builds = new Builds();
      const probe: esbuild.Plugin = {
        name: "probe",
        setup(b) {
          b.onStart(() => builds.start());
          b.onEnd((r) => {
            const errors = r.errors.map((e) => `${e.location?.file}:${e.location?.line}:${e.location?.column}: ${e.text}`);
            builds.end(errors.length > 0 ? errors.join("\n") : undefined);
          });
        },
      };
      const context = await esbuild.context({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: join(out, "w.mjs"),
        logLevel: "silent",
        plugins: [sealkitEsbuild(options), probe],
      });
      await context.watch();
      return { builds, out: join(out, "w.mjs"), close: () => context.dispose() };
    },
  },
  {
    name: "vite",
    async watch(entry, out, options) {
      const builds = new Builds();
      const watcher = (await viteBuild({
        root: options.root,
        configFile: false,
        logLevel: "silent",
        plugins: [sealkitVite(options)],
        ssr: { noExternal: true },
        build: { ssr: entry, outDir: out, minify: false, watch: {}, rollupOptions: { output: { entryFileNames: "w.mjs" } } },
      })) as unknown as RollupLikeWatcher;
      rollupEvents(watcher, builds);
      return { builds, out: join(out, "w.mjs"), close: () => watcher.close() };
    },
  },
  {
    name: "rollup",
    async watch(entry, out, options) {
      const builds = new Builds();
      const watcher = rollupWatch({
        input: entry,
        // Rollup alone does not resolve node_modules: the runtime stays an import, resolved
        // by Node from the project when the output runs; the secret modules are bundled.
        external: [/^@sealkit\/(?!.*~)/],
        output: { file: join(out, "w.mjs"), format: "es" },
        plugins: [sealkitRollup(options)],
        logLevel: "silent",
      });
      rollupEvents(watcher, builds);
      return { builds, out: join(out, "w.mjs"), close: () => watcher.close() };
    },
  },
  { name: "webpack", watch: webpackLike(webpack as unknown as WebpackLike, sealkitWebpack, false) },
  { name: "rspack", watch: webpackLike(rspack as unknown as WebpackLike, sealkitRspack, true) },
];

/** Where each bundler's error text points: src/w.js, line 2, the "late-secret" argument (0- or 1-based column). */
const AT_LATE_SECRET = /w\.js\W+2:8[78]\b/;
const SOURCE = 'import { secret } from "@sealkit/runtime";\nexport const read = async () => ({ db: await secret("db-password"), late: await secret("late-secret") });\n';

describe.each(BUNDLERS)("$name in watch mode", (b) => {
  let p: Project;
  beforeAll(async () => {
    p = await makeProject({ "db-password": VALUES["db-password"] as string });
    await p.write({ "src/w.js": SOURCE });
  });
  afterAll(() => p.cleanup());

  const run = (file: string) => runBundle(file, p.localKey);
  const set = (name: string, value: string) => setSecrets(p.store, new Map([[name, new TextEncoder().encode(value)]]));

  it("rebuilds when the store changes: a name added, a rotation, a new value, a name removed", async () => {
    const w = await b.watch(join(p.dir, "src/w.js"), join(p.dir, "out"), { root: p.dir, dts: false, manifest: false });
    try {
      await w.builds.settledAfter(0);
      expect(w.builds.lastError).toContain('no secret named "late-secret"');
      expect(w.builds.lastError).toMatch(AT_LATE_SECRET);

      let at = Date.now();
      await set("late-secret", "late-v1");
      await w.builds.settledAfter(at);
      expect(w.builds.lastError).toBeUndefined();
      expect(run(w.out)).toMatchObject({ first: { db: VALUES["db-password"], late: "late-v1" }, unwraps: 1 });

      at = Date.now();
      await rotateStore(p.store);
      await w.builds.settledAfter(at);
      expect(w.builds.lastError).toBeUndefined();
      expect(run(w.out)).toMatchObject({ first: { db: VALUES["db-password"], late: "late-v1" }, unwraps: 1 });

      at = Date.now();
      await set("db-password", "changed-while-watching");
      await w.builds.settledAfter(at);
      expect(w.builds.lastError).toBeUndefined();
      expect(run(w.out)).toMatchObject({ first: { db: "changed-while-watching", late: "late-v1" }, unwraps: 1 });

      // A removed name fails the build again, at the call, though the source did not change.
      at = Date.now();
      await removeSecret(p.store, "late-secret");
      await w.builds.settledAfter(at);
      expect(w.builds.lastError).toContain('no secret named "late-secret"');
      expect(w.builds.lastError).toMatch(AT_LATE_SECRET);
    } finally {
      await w.close();
    }
  }, 120_000);
});
