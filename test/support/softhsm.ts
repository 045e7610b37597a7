/**
 * SoftHSM2 for tests: detects it, and creates a fresh token in a temp dir per test.
 *
 * SoftHSM reads `SOFTHSM2_CONF` when the module is initialised (C_Initialize), so a token
 * created here is seen by every PKCS#11 session opened after `createToken()` in this
 * process, and by child processes given `token.env`.
 *
 * Missing SoftHSM: in CI (`CI=true`) the suites FAIL (a test that throws why); locally they
 * are skipped with a visible message on stderr. Use `describeHsm` instead of `describe`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";

/** Where Debian/Ubuntu's `softhsm2` package installs the module (what CI installs). */
export const SOFTHSM_MODULE_CANDIDATES = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

export interface SoftHsmInfo {
  available: boolean;
  /** The module path, when found (SOFTHSM2_MODULE overrides the search). */
  module?: string;
  /** Why SoftHSM cannot be used, when it cannot. */
  reason?: string;
}

let cached: SoftHsmInfo | undefined;

export function detectSoftHsm(): SoftHsmInfo {
  if (cached) return cached;
  const module = [process.env.SOFTHSM2_MODULE, ...SOFTHSM_MODULE_CANDIDATES].find((p) => p && existsSync(p));
  const util = spawnSync("softhsm2-util", ["--version"], { encoding: "utf8" });
  if (!module) {
    cached = { available: false, reason: `libsofthsm2.so not found (looked in ${SOFTHSM_MODULE_CANDIDATES.join(", ")})` };
  } else if (util.error || util.status !== 0) {
    cached = { available: false, module, reason: "softhsm2-util is not on PATH" };
  } else {
    cached = { available: true, module };
  }
  return cached;
}

export const isCI = process.env.CI === "true" || process.env.CI === "1";

/**
 * `describe` for suites that need SoftHSM2. When it is missing: in CI, one failing test
 * says so; locally, the suite is skipped and a message says why.
 */
export function describeHsm(name: string, fn: () => void): void {
  const info = detectSoftHsm();
  if (info.available) {
    describe(name, fn);
    return;
  }
  const how = "install it with `apt-get install -y softhsm2` (CI does this in .ci/run)";
  if (isCI) {
    describe(name, () => {
      it("needs SoftHSM2 (CI=true: failing rather than skipping)", () => {
        throw new Error(`SoftHSM2 is missing: ${info.reason}; ${how}`);
      });
    });
    return;
  }
  process.stderr.write(`\n[softhsm] SKIPPING "${name}": SoftHSM2 is missing (${info.reason}); ${how}\n`);
  describe.skip(name, fn);
}

export interface TestToken {
  /** The temp dir holding softhsm2.conf and the token files. */
  dir: string;
  conf: string;
  module: string;
  label: string;
  pin: string;
  soPin: string;
  /** Env for a child process (SOFTHSM2_CONF, SEALKIT_PKCS11_MODULE, SEALKIT_PKCS11_PIN). */
  env: Record<string, string>;
  /** Adds another token (another label) to the same SoftHSM config. */
  addToken(label: string, pin?: string): void;
  /** Removes the temp dir and restores SOFTHSM2_CONF. */
  cleanup(): void;
}

export interface CreateTokenOptions {
  label?: string;
  pin?: string;
  soPin?: string;
  /** Point this process's SOFTHSM2_CONF at the new config (default true). */
  setEnv?: boolean;
}

/**
 * Creates a fresh SoftHSM2 token in a new temp dir. The test PIN goes to softhsm2-util on
 * its command line: a throwaway token's PIN, not a user secret. Sealkit itself never takes a
 * PIN from argv.
 */
export function createToken(opts: CreateTokenOptions = {}): TestToken {
  const info = detectSoftHsm();
  if (!info.available || !info.module) throw new Error(`SoftHSM2 is missing: ${info.reason}`);
  const dir = mkdtempSync(join(tmpdir(), "sealkit-softhsm-"));
  const tokens = join(dir, "tokens");
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    { mode: 0o600 },
  );
  const label = opts.label ?? "sealkit-test";
  const pin = opts.pin ?? "1234-user";
  const soPin = opts.soPin ?? "5678-so";
  const initToken = (l: string, p: string) => {
    execFileSync("softhsm2-util", ["--init-token", "--free", "--label", l, "--pin", p, "--so-pin", soPin], {
      env: { ...process.env, SOFTHSM2_CONF: conf },
      stdio: ["ignore", "ignore", "pipe"],
    });
  };
  initToken(label, pin);
  const previous = process.env.SOFTHSM2_CONF;
  const setEnv = opts.setEnv ?? true;
  if (setEnv) process.env.SOFTHSM2_CONF = conf;
  return {
    dir,
    conf,
    module: info.module,
    label,
    pin,
    soPin,
    env: { SOFTHSM2_CONF: conf, SEALKIT_PKCS11_MODULE: info.module, SEALKIT_PKCS11_PIN: pin },
    addToken: (l, p = pin) => initToken(l, p),
    cleanup() {
      if (setEnv) {
        if (previous === undefined) delete process.env.SOFTHSM2_CONF;
        else process.env.SOFTHSM2_CONF = previous;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
