import { SealkitError, registerProvider } from "@sealkit/envelope";
import { ENV, resolveModule } from "./config.js";
import { PKCS11_PROVIDER_ID, formatKeyRef, isKeyRef, parseKeyRef } from "./keyref.js";
import { pkcs11Provider } from "./lazy.js";

/** The master keys `sealkit init --provider pkcs11` asked for. */
export interface InitKeysResult {
  masterKeys: { provider: string; keyRef: string }[];
  notes?: string[];
}

/**
 * `sealkit init --provider pkcs11 [--module <path.so>] --token <label> --key <label>...`:
 * each `--key` is a key label in the `--token` token, or a full `pkcs11:` URI. With
 * `--module`, the provider for this run is configured with that module; the path is not
 * written to the store (see docs/providers/pkcs11.md, "keyRef").
 */
export async function initKeys(options: { keys: string[]; rawArgs: string[] }): Promise<InitKeysResult> {
  const module = lastValue(options.rawArgs, "module");
  const token = lastValue(options.rawArgs, "token");
  if (options.keys.length === 0) {
    throw new SealkitError("E_INPUT", "--provider pkcs11 needs --key <key label> (with --token <token label>) or --key pkcs11:token=...;object=...");
  }
  const masterKeys = options.keys.map((k) => {
    if (isKeyRef(k)) return { provider: PKCS11_PROVIDER_ID, keyRef: formatKeyRef(parseKeyRef(k)) };
    if (!token) throw new SealkitError("E_INPUT", `--key ${k} is a key label: also pass --token <token label>`);
    return { provider: PKCS11_PROVIDER_ID, keyRef: formatKeyRef({ token, object: k }) };
  });
  const notes: string[] = [];
  const resolved = resolveModule(module);
  if (module) {
    registerProvider(pkcs11Provider({ module: resolved }));
    if (process.env[ENV.module] !== resolved) {
      notes.push(`the module path is not stored: set ${ENV.module}=${resolved} for later sealkit commands and in the function's environment`);
    }
  }
  notes.push(`the token PIN comes from ${ENV.pin} or ${ENV.pinFile}, never from the command line`);
  return { masterKeys, notes };
}

/** The last value of `--name v` / `--name=v` in argv, stopping at `--`. */
export function lastValue(rawArgs: readonly string[], name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i] as string;
    if (a === "--") break;
    if (a === `--${name}`) {
      const v = rawArgs[i + 1];
      if (v === undefined || v.startsWith("--")) throw new SealkitError("E_INPUT", `--${name} needs a value`);
      out = v;
      i++;
    } else if (a.startsWith(`--${name}=`)) out = a.slice(name.length + 3);
  }
  return out;
}
