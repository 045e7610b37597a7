/**
 * The `policy` hook a provider package may export for `sealkit policy` (see
 * docs/architecture.md, "Policy hook"). Types only: the CLI reads the build manifest and
 * calls `policy()` of package `@sealkit/<provider>` once per output file, store and provider.
 */

/** One master key of a store, as the build manifest lists it. */
export interface PolicyKey {
  readonly provider: string;
  readonly keyRef: string;
  readonly context: Readonly<Record<string, string>>;
}

export interface PolicyInput {
  /** The output file (function) this is for, relative to the manifest. */
  readonly output: string;
  readonly storeId: string;
  readonly generation: number;
  /** This provider's keys only, in the store's order. */
  readonly keys: readonly PolicyKey[];
  /** The secrets this output references from this store (names only). */
  readonly secrets: readonly string[];
}

export interface PolicyOutput {
  readonly provider: string;
  /** What the function's identity needs (IAM statement, role assignment, IAM binding). */
  readonly runtime: unknown;
  /** The key-side snippet, where the service has one. */
  readonly keyPolicy?: unknown;
  /** What `sealkit set` / `rekey` need. */
  readonly operator?: unknown;
  /** Human lines. */
  readonly summary: readonly string[];
}

export type PolicyHook = (input: PolicyInput) => PolicyOutput | Promise<PolicyOutput>;
