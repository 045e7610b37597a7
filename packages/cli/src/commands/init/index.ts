import { appendFile, readFile, stat } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { SealkitError } from "@sealkit/envelope";
import { type MasterKey, initStore, resolveStorePath, storeExists } from "@sealkit/store";
import { defineCommand } from "citty";
import { allValues, commonArgs } from "../../args.js";
import { createOut } from "../../output.js";
import { ensureProviders, providerModule } from "../../providers.js";

/**
 * What a provider package may export to take part in `sealkit init`: it turns the
 * command line into master keys (and notes to print, e.g. "sealing needs no unwrap right").
 */
export interface ProviderInit {
  initKeys(options: { keys: string[]; rawArgs: string[] }): Promise<{ masterKeys: MasterKey[]; notes?: string[] }>;
}

export default defineCommand({
  meta: { name: "init", description: "Create a new store file with a fresh data key wrapped under one or more master keys" },
  args: {
    ...commonArgs,
    provider: { type: "string", description: "Key provider: local, aws-kms, azure-key-vault, gcp-kms, pkcs11", default: "local" },
    key: { type: "string", description: "Master key reference (repeat for several, e.g. two regions)" },
  },
  async run({ args, rawArgs }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const dirStat = await stat(dirname(path)).catch(() => undefined);
    if (!dirStat?.isDirectory()) {
      throw new SealkitError("E_NOT_FOUND", `cannot create ${path}: directory ${dirname(path)} does not exist (create it first)`, {
        details: { file: path },
      });
    }
    if ((await stat(path).catch(() => undefined))?.isDirectory()) {
      throw new SealkitError("E_INPUT", `--store ${path} is a directory: give the path of the store file, e.g. ${join(path, "sealkit.secrets.json")}`, {
        details: { file: path },
      });
    }
    if (await storeExists(path)) {
      throw new SealkitError("E_CONFIG", `a store already exists at ${path}; refusing to overwrite it (use --store for another)`, {
        details: { file: path },
      });
    }
    const provider = String(args.provider);
    const keys = allValues(rawArgs, "key");
    const notes: string[] = [];
    let masterKeys: MasterKey[];
    if (provider === "local") {
      masterKeys = await initLocal(path, keys, notes);
    } else {
      await ensureProviders([provider], path);
      const mod = (await providerModule(provider)) as Partial<ProviderInit>;
      if (typeof mod.initKeys === "function") {
        const r = await mod.initKeys({ keys, rawArgs: [...rawArgs] });
        masterKeys = r.masterKeys;
        notes.push(...(r.notes ?? []));
      } else {
        if (keys.length === 0) throw new SealkitError("E_INPUT", `--provider ${provider} needs at least one --key`);
        masterKeys = keys.map((keyRef) => ({ provider, keyRef }));
      }
    }
    const store = await initStore({ path, masterKeys });
    out.result(
      { file: path, storeId: store.storeId, generation: store.generation, keys: store.keys.map(({ provider: p, keyRef }) => ({ provider: p, keyRef })), notes },
      () => {
        out.info(`${out.green("✓")} created store ${out.bold(relative(process.cwd(), path) || path)} (id ${store.storeId})`);
        for (const k of store.keys) out.info(`  data key wrapped under ${k.provider} ${k.keyRef}`);
        for (const n of notes) out.info(`  ${n}`);
        out.info(`  next: printf %s "$VALUE" | sealkit set NAME`);
      },
    );
  },
});

async function initLocal(storePath: string, keys: string[], notes: string[]): Promise<MasterKey[]> {
  if (keys.length > 0) throw new SealkitError("E_INPUT", "--provider local takes no --key: its master key is SEALKIT_LOCAL_KEY or the key file");
  const { defaultLocalKeyFile, writeLocalKeyFile } = await import("@sealkit/envelope/local");
  await ensureProviders(["local"], storePath);
  if (!process.env.SEALKIT_LOCAL_KEY) {
    const file = defaultLocalKeyFile(dirname(storePath));
    if (!(await storeExists(file))) {
      await writeLocalKeyFile(file);
      notes.push(`wrote a new local master key to ${file} (mode 0600); keep it out of git and back it up`);
      await gitIgnore(dirname(storePath), file, notes);
    } else {
      notes.push(`using the existing local master key ${file}`);
    }
  } else {
    notes.push("using the local master key from SEALKIT_LOCAL_KEY");
  }
  notes.push("the local provider is for development and tests: use a key service or an HSM in production");
  return [{ provider: "local", keyRef: "local" }];
}

async function gitIgnore(dir: string, keyFile: string, notes: string[]): Promise<void> {
  const rel = relative(dir, keyFile);
  if (rel.startsWith("..")) return;
  const entry = rel.startsWith(".sealkit") ? ".sealkit/" : rel;
  const file = join(dir, ".gitignore");
  const text = await readFile(file, "utf8").catch(() => "");
  if (text.split(/\r?\n/).some((l) => l.trim() === entry || l.trim() === `/${entry}`)) return;
  await appendFile(file, `${text && !text.endsWith("\n") ? "\n" : ""}# Sealkit local master key: never commit it\n${entry}\n`);
  notes.push(`added ${entry} to ${file}`);
}
