import { relative, resolve } from "node:path";
import { type PolicyHook, type PolicyOutput, SealkitError } from "@sealkit/envelope";
import { defineCommand } from "citty";
import { allValues } from "../../args.js";
import { createOut } from "../../output.js";
import { providerModule } from "../../providers.js";
import { localPolicy } from "./local.js";
import { DEFAULT_MANIFEST, readManifest } from "./manifest.js";

/** One policy result: which function, which store, which provider, and what it needs. */
export interface PolicyEntry extends PolicyOutput {
  output: string;
  storeId: string;
  generation: number;
  secrets: string[];
}

/**
 * The policy hook of provider `id`: the export `policy` of package `@sealkit/<id>`, found by
 * the same convention as providers themselves, so a new provider package needs no change
 * here. `local` is built in.
 */
async function policyHook(id: string): Promise<PolicyHook | undefined> {
  if (id === "local") return localPolicy;
  let mod: { policy?: unknown };
  try {
    mod = await providerModule(id);
  } catch (e) {
    if ((e as SealkitError).code === "E_CONFIG") {
      throw new SealkitError("E_CONFIG", `the manifest names key provider "${id}": install @sealkit/${id}`, { details: { provider: id } });
    }
    throw e;
  }
  return typeof mod.policy === "function" ? (mod.policy as PolicyHook) : undefined;
}

export default defineCommand({
  meta: {
    name: "policy",
    description: "Print the least-privilege key-service permissions each built function needs, from the build manifest",
  },
  args: {
    manifest: { type: "string", description: `Build manifest (default ${DEFAULT_MANIFEST})` },
    output: { type: "string", description: "Only this output file (repeatable)" },
    json: { type: "boolean", description: "Print machine-readable JSON" },
  },
  async run({ args, rawArgs }) {
    const out = createOut(Boolean(args.json));
    const path = resolve(String(args.manifest ?? DEFAULT_MANIFEST));
    const manifest = await readManifest(path);
    const only = allValues(rawArgs, "output");
    const names = Object.keys(manifest.outputs).sort();
    for (const o of only) {
      if (!names.includes(o)) {
        throw new SealkitError("E_NOT_FOUND", `no output "${o}" in ${path}; it lists: ${names.join(", ") || "(none)"}`, {
          details: { file: path, output: o },
        });
      }
    }
    const hooks = new Map<string, PolicyHook | undefined>();
    const missing = new Set<string>();
    const outputs: Record<string, PolicyEntry[]> = {};
    for (const output of only.length > 0 ? only : names) {
      const entries: PolicyEntry[] = [];
      for (const store of manifest.outputs[output]?.stores ?? []) {
        // One call per provider of this store, with that provider's keys in store order.
        const providers = [...new Set(store.keys.map((k) => k.provider))];
        for (const provider of providers) {
          if (!hooks.has(provider)) hooks.set(provider, await policyHook(provider));
          const hook = hooks.get(provider);
          if (!hook) {
            missing.add(provider);
            continue;
          }
          const input = {
            output,
            storeId: store.storeId,
            generation: store.generation,
            keys: store.keys.filter((k) => k.provider === provider),
            secrets: [...store.secrets].sort(),
          };
          const result = await hook(input);
          entries.push({ output, storeId: store.storeId, generation: store.generation, secrets: input.secrets, ...result });
        }
      }
      outputs[output] = entries;
    }
    const notes = [...missing].map((p) => `@sealkit/${p} exports no policy hook: grant its unwrap permission by hand`);
    out.result({ manifest: relative(process.cwd(), path) || path, outputs, notes }, () => {
      for (const [output, entries] of Object.entries(outputs)) {
        out.info(out.bold(output));
        if (entries.length === 0) out.info("  references no secrets: needs no key-service permission");
        for (const e of entries) {
          out.info(`  ${out.bold(e.provider)}  store ${e.storeId} (generation ${e.generation})`);
          for (const line of e.summary) out.info(`    ${line}`);
          out.info(`    ${out.dim("function:")}`);
          for (const l of JSON.stringify(e.runtime, null, 2).split("\n")) out.info(`      ${l}`);
          if (e.keyPolicy !== undefined) {
            out.info(`    ${out.dim("key policy:")}`);
            for (const l of JSON.stringify(e.keyPolicy, null, 2).split("\n")) out.info(`      ${l}`);
          }
        }
      }
      const ops = Object.values(outputs)
        .flat()
        .filter((e) => e.operator !== undefined);
      if (ops.length > 0) {
        out.info(out.bold("operator (sealkit set / rekey)"));
        const seen = new Set<string>();
        for (const e of ops) {
          const text = JSON.stringify(e.operator, null, 2);
          if (seen.has(text)) continue;
          seen.add(text);
          out.info(`  ${e.provider}, store ${e.storeId}:`);
          for (const l of text.split("\n")) out.info(`    ${l}`);
        }
      }
    });
    for (const n of notes) out.note(`warning: ${n}`);
  },
});
