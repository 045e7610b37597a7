/**
 * Fault-injection points for crash-safety tests. When `SEALKIT_FAULT` names a step, the
 * process kills itself with SIGKILL at that step, exactly as a crash or `kill -9` would;
 * `SEALKIT_FAULT=<step>:<ERRNO>` throws that errno there instead (a simulated full disk).
 * Off (a no-op) unless the variable is set; never set it in production.
 */
export const FAULT_POINTS = [
  /** The store lock is held, nothing read yet. */
  "lock-acquired",
  /** The temp file is written, not yet synced. */
  "temp-written",
  /** The temp file is synced, not yet renamed. */
  "temp-synced",
  "before-rename",
  /** The new store is in place, the directory not yet synced, the lock still held. */
  "after-rename",
  /** Every new wrap of a data key is verified, nothing written yet. */
  "wrap-verified",
  /** rekey: the current data key is unwrapped, no re-wrap made yet. */
  "rekey-unwrapped",
  /** rotate: every value is re-sealed under the new data key, nothing wrapped yet. */
  "rotate-resealed",
  /** rekey --bundle: one output file was rewritten, others and the manifest not yet. */
  "bundle-file-written",
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

export function faultPoint(step: FaultPoint): void {
  const fault = process.env.SEALKIT_FAULT;
  if (fault === step) process.kill(process.pid, "SIGKILL");
  // `<step>:<ERRNO>` (e.g. `temp-written:ENOSPC`) throws that file-system error instead, as a
  // full disk or a failing device would at that step.
  else if (fault?.startsWith(`${step}:`)) {
    const errno = fault.slice(step.length + 1);
    if (/^E[A-Z]+$/.test(errno)) throw Object.assign(new Error(`${errno}: injected at ${step}`), { code: errno, syscall: "write" });
  }
}
