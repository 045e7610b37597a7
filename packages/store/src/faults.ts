/**
 * Fault-injection points for crash-safety tests. When `SEALKIT_FAULT` names a step, the
 * process kills itself with SIGKILL at that step, exactly as a crash or `kill -9` would.
 * Off (a no-op) unless the variable is set; never set it in production.
 */
export type FaultPoint =
  | "lock-acquired"
  | "temp-written"
  | "temp-synced"
  | "before-rename"
  | "after-rename"
  | "wrap-verified";

export function faultPoint(step: FaultPoint): void {
  if (process.env.SEALKIT_FAULT === step) process.kill(process.pid, "SIGKILL");
}
