/** Test support: a temporary project with a local-provider store, under node_modules (git-ignored). */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { toBase64 } from "@sealkit/envelope";
import { initStore, setSecrets } from "@sealkit/store";

const here = dirname(fileURLToPath(import.meta.url));

export interface Project {
  dir: string;
  store: string;
  localKey: string;
  write(files: Record<string, string>): Promise<void>;
  cleanup(): Promise<void>;
}

/** Values of the test secrets: distinctive, so a leak is easy to find. */
export const VALUES: Record<string, string> = {
  "db-password": "pw-Zq81!correct-horse",
  "api-key": "ak-7f3e9c21d04b6a58",
  "unused-secret": "us-never-referenced-4411",
  token: "tk-9a8b7c6d5e4f",
};

/** What test/e2e/_run-bundle.mjs prints: two calls of the export, and the unwraps they made. */
export interface BundleRun {
  first: Record<string, string>;
  second: Record<string, string>;
  unwraps: number;
}

/** Runs `exportName` of a built bundle twice in a fresh Node process, counting unwraps. */
export function runBundle(file: string, localKey: string, exportName = "read", env: NodeJS.ProcessEnv = {}): BundleRun {
  const runner = join(here, "../../../test/e2e/_run-bundle.mjs");
  return JSON.parse(execFileSync(process.execPath, [runner, file, exportName], { env: { ...process.env, SEALKIT_LOCAL_KEY: localKey, ...env }, encoding: "utf8" }));
}

/** webpack's and Rspack's `(config, callback)` compile; their config types differ, so it is untyped here. */
export type WebpackLikeCompile = (
  config: never,
  callback: (err: Error | null, stats?: { hasErrors(): boolean; toString(o: object): string }) => void,
) => unknown;

/** Runs one webpack or Rspack build; rejects with the build's errors. */
export function compileWebpackLike(run: WebpackLikeCompile, config: object): Promise<void> {
  return new Promise((resolve, reject) =>
    run(config as never, (err, stats) => (err || stats?.hasErrors() ? reject(err ?? new Error(stats?.toString({ all: false, errors: true }))) : resolve())),
  );
}

export async function makeProject(values: Record<string, string> = VALUES): Promise<Project> {
  const base = join(here, ".tmp");
  await mkdir(base, { recursive: true });
  const dir = await mkdtemp(join(base, "p-"));
  const localKey = toBase64(randomBytes(32));
  process.env.SEALKIT_LOCAL_KEY = localKey;
  await import("@sealkit/envelope/local");
  const store = join(dir, "sealkit.secrets.json");
  await initStore({ path: store, masterKeys: [{ provider: "local", keyRef: "local" }] });
  await setSecrets(store, new Map(Object.entries(values).map(([name, v]) => [name, new TextEncoder().encode(v)])));
  return {
    dir,
    store,
    localKey,
    async write(files) {
      for (const [name, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), text);
      }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
