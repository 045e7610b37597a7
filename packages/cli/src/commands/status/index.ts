import {
  type StaleItem,
  assertFresh,
  bundleStatus,
  formatAge,
  parseDuration,
  parseSince,
  readStoreFile,
  resolveStorePath,
  storeExists,
  storeStatus,
} from "@sealkit/store";
import { defineCommand } from "citty";
import { commonArgs } from "../../args.js";
import { createOut } from "../../output.js";

export default defineCommand({
  meta: {
    name: "status",
    description: "Master keys, generation, data-key age and value ages of a store (or of built output); --max-age fails (exit 12) when something is stale",
  },
  args: {
    ...commonArgs,
    bundle: { type: "string", description: "Report the data-key records inside built output (a directory) instead" },
    since: { type: "string", description: "List secrets whose value has not changed since this date (2026-01-31) or for this long (90d)" },
    "max-age": { type: "string", description: "Fail (E_STALE) when the data key or a master-key wrap is older than this (90d, 12h, 2w)" },
    "max-secret-age": { type: "string", description: "Fail (E_STALE) when a value is older than this" },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    const path = resolveStorePath(args.store);
    const maxAgeMs = args["max-age"] ? parseDuration(String(args["max-age"])) : undefined;
    const maxSecretAgeMs = args["max-secret-age"] ? parseDuration(String(args["max-secret-age"])) : undefined;
    const since = args.since ? parseSince(String(args.since)) : undefined;
    if (args.bundle) {
      const b = await bundleStatus(String(args.bundle));
      const store = (await storeExists(path)) ? await readStoreFile(path) : undefined;
      const now = Date.now();
      const stale: StaleItem[] = [];
      const records = b.records.map((r) => {
        const current = store && store.storeId === r.storeId ? store : undefined;
        const superseded = current ? r.generation < current.generation : undefined;
        const ageMs = current && !superseded ? now - Date.parse(current.dataKeyCreatedAt) : undefined;
        if (maxAgeMs !== undefined && (superseded || (ageMs !== undefined && ageMs > maxAgeMs))) {
          stale.push({
            kind: "bundle",
            subject: r.file,
            since: current?.dataKeyCreatedAt ?? "",
            ageMs: ageMs ?? 0,
            fix: superseded ? "rebuild: the store was rotated since" : "sealkit rotate, then rebuild",
          });
        }
        return { ...r, storeGeneration: current?.generation, superseded, dataKeyAgeMs: ageMs };
      });
      // --json prints one document: the status, or (when stale) the error carrying it.
      const doc = { ...b, records };
      if (!(out.json && stale.length)) out.result({ ...doc, stale }, () => {
        out.info(`${b.dir}${b.manifest?.generatedAt ? ` (built ${b.manifest.generatedAt})` : ""}`);
        if (records.length === 0) out.info("  no Sealkit data-key records found");
        for (const r of records) {
          const gen = r.superseded ? out.yellow(`generation ${r.generation} (store is at ${r.storeGeneration})`) : `generation ${r.generation}`;
          const age = r.dataKeyAgeMs !== undefined ? `, data key ${formatAge(r.dataKeyAgeMs)} old` : "";
          out.info(`  ${r.file}: store ${r.storeId}, ${gen}${age}`);
          for (const k of r.keys) out.info(`    master key ${k.provider} ${k.keyRef}`);
        }
        for (const s of stale) out.info(`  ${out.red("stale")} ${s.subject}: ${s.fix}`);
      });
      assertFresh(stale, { status: doc });
      return;
    }
    const s = storeStatus(path, await readStoreFile(path), {
      ...(maxAgeMs !== undefined ? { maxAgeMs } : {}),
      ...(maxSecretAgeMs !== undefined ? { maxSecretAgeMs } : {}),
      ...(since ? { since } : {}),
    });
    if (!(out.json && s.stale.length)) out.result(s, () => {
      out.info(`${out.bold(s.file)}  store ${s.storeId}, generation ${s.generation}`);
      out.info(`  data key made ${s.dataKeyCreatedAt} (${formatAge(s.dataKeyAgeMs)} ago)`);
      for (const k of s.keys) out.info(`  master key ${k.provider} ${k.keyRef}, wrapped ${k.wrappedAt} (${formatAge(k.ageMs)} ago)`);
      out.info(`  ${s.secrets.length} secret(s)`);
      if (s.unchangedSince) {
        out.info(`  unchanged since ${s.unchangedSince.since}: ${s.unchangedSince.names.length ? s.unchangedSince.names.join(", ") : "(none)"}`);
      }
      for (const x of s.stale) out.info(`  ${out.red("stale")} ${x.kind} ${x.subject} since ${x.since}: ${x.fix}`);
    });
    assertFresh(s.stale, { status: { ...s, stale: undefined } });
  },
});
