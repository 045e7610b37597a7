import { relative } from "node:path";
import {
  type BundleRekeyResult,
  type RekeyStep,
  findKeyRecords,
  readStoreFile,
  rekeyBundle,
  rekeyStore,
  resolveStorePath,
} from "@sealkit/store";
import { defineCommand } from "citty";
import { allValues, commonArgs } from "../../args.js";
import { currentKeyRef, targetKeys } from "../../lifecycle.js";
import { type Out, createOut } from "../../output.js";
import { ensureProviders } from "../../providers.js";

export default defineCommand({
  meta: {
    name: "rekey",
    description:
      "Re-wrap the data key under the current version of each master key (or move, add or remove master keys). Values and generation are untouched",
  },
  args: {
    ...commonArgs,
    "to-key": { type: "string", description: "Move: replace every master key by this one (repeatable)" },
    "add-key": { type: "string", description: "Also wrap under this master key, e.g. a second region (repeatable)" },
    "remove-key": { type: "string", description: "Stop wrapping under this master key: keyRef or provider:keyRef (repeatable)" },
    provider: { type: "string", description: "Provider of --to-key / --add-key (default: the provider of the first current key)" },
    bundle: { type: "string", description: "Re-key the data-key records inside built output (a directory) instead of the store" },
    "dry-run": { type: "boolean", description: "Show what would change; call no key service, write nothing" },
  },
  async run({ args, rawArgs }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const provider = args.provider ? String(args.provider) : undefined;
    const dryRun = Boolean(args["dry-run"]);
    if (args.bundle) {
      const dir = String(args.bundle);
      const found = await findKeyRecords(dir);
      const first = found.records[0]?.record.keys[0]?.provider ?? "local";
      const target = {
        ...targets(rawArgs, provider, first),
        currentKeyRef,
        dryRun,
      };
      await ensureProviders([...found.records.flatMap((r) => r.record.keys.map((k) => k.provider)), ...[...(target.to ?? []), ...(target.add ?? [])].map((k) => k.provider)], path);
      const r = await rekeyBundle(dir, target);
      out.result(r, () => printBundle(out, r));
      return;
    }
    const store = await readStoreFile(path);
    const target = { ...targets(rawArgs, provider, store.keys[0]?.provider ?? "local"), currentKeyRef, dryRun };
    await ensureProviders([...store.keys.map((k) => k.provider), ...[...(target.to ?? []), ...(target.add ?? [])].map((k) => k.provider)], path);
    const r = await rekeyStore(path, target);
    out.result(r, () => {
      out.info(`${dryRun ? out.yellow("dry run:") : out.green("✓")} ${relative(process.cwd(), path) || path} (generation ${r.generation}, values untouched)`);
      printSteps(out, r.steps, dryRun);
    });
  },
});

function targets(rawArgs: readonly string[], provider: string | undefined, fallback: string) {
  const to = targetKeys(rawArgs, "to-key", provider, fallback);
  const add = targetKeys(rawArgs, "add-key", provider, fallback);
  const remove = allValues(rawArgs, "remove-key");
  return { ...(to.length ? { to } : {}), ...(add.length ? { add } : {}), ...(remove.length ? { remove } : {}) };
}

function printSteps(out: Out, steps: RekeyStep[], dryRun: boolean): void {
  for (const s of steps) {
    const how = s.method === "server-rewrap" ? "re-wrapped on the key service" : s.method === "unwrap-wrap" ? "unwrapped and wrapped again" : "";
    const verb = { refresh: dryRun ? "would re-wrap" : "re-wrapped", add: dryRun ? "would add" : "added", keep: "kept", remove: dryRun ? "would remove" : "removed" }[s.action];
    const to = s.newKeyRef && s.newKeyRef !== s.keyRef ? ` → ${s.newKeyRef}` : "";
    const note = how ? out.dim(` (${how}${dryRun ? "" : ", verified"})`) : "";
    out.info(`  ${verb} ${s.provider} ${s.keyRef}${to}${note}`);
  }
}

function printBundle(out: Out, r: BundleRekeyResult): void {
  out.info(`${r.dryRun ? out.yellow("dry run:") : out.green("✓")} ${r.records.length} data-key record(s) in ${relative(process.cwd(), r.dir) || r.dir}`);
  for (const rec of r.records) {
    out.info(`  store ${rec.storeId} generation ${rec.generation} in ${rec.files.join(", ")}`);
    printSteps(out, rec.steps, r.dryRun);
  }
  for (const f of r.files) {
    out.info(`  rewrote ${f.file}${f.mapUpdated ? " and its source map" : ""}${f.pinsUpdated ? " (key pins updated)" : ""}`);
  }
  if (r.manifestUpdated) out.info("  updated sealkit-manifest.json");
  for (const s of r.skipped) out.note(`warning: ${s.file}@${s.index}: not a data-key record (${s.reason}); left alone`);
}
