import { SealkitError } from "@sealkit/envelope";

/** Options every command takes. */
export const commonArgs = {
  store: { type: "string", description: "Store file (default: $SEALKIT_STORE or ./sealkit.secrets.json)" },
  json: { type: "boolean", description: "Print machine-readable JSON" },
} as const;

/** Every value of a repeatable option (`--key a --key b`, `--key=a`). */
export function allValues(rawArgs: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i] as string;
    if (a === "--") break;
    if (a === `--${name}`) {
      const v = rawArgs[i + 1];
      if (v === undefined || v.startsWith("--")) throw new SealkitError("E_INPUT", `--${name} needs a value`);
      out.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/** Positional arguments beyond the ones a command declares. */
export function extraPositionals(args: { _: string[] }, declared: number): string[] {
  return (args._ ?? []).slice(declared);
}
