import { SealkitError } from "@sealkit/envelope";

/**
 * The environment variable `sealkit exec` puts a secret in: the name upper-cased, with
 * `.` and `-` turned into `_`, after an optional prefix (`db-password` → `DB_PASSWORD`,
 * `stripe.key` → `STRIPE_KEY`). Secret names already start with a letter or `_`, so the
 * result is a valid POSIX variable name.
 */
export function secretEnvName(name: string, prefix = ""): string {
  return `${prefix}${name.replace(/[.-]/g, "_").toUpperCase()}`;
}

/** Maps names to variables, refusing two names that land on one variable. */
export function secretEnvNames(names: readonly string[], prefix = ""): Map<string, string> {
  const byVar = new Map<string, string>();
  for (const n of names) {
    const v = secretEnvName(n, prefix);
    const other = byVar.get(v);
    if (other !== undefined) {
      throw new SealkitError("E_INPUT", `secrets "${other}" and "${n}" both map to the environment variable ${v}; rename one, or pass --only`, {
        details: { names: [other, n], variable: v },
      });
    }
    byVar.set(v, n);
  }
  return new Map([...byVar].map(([v, n]) => [n, v]));
}
