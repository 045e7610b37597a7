import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseStore } from "@sealkit/envelope";
import { type LeakEncoding, assertFresh, parseDuration, parseSince, scanForLeaks, storeStatus } from "@sealkit/store";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

const te = new TextEncoder();
const VALUE = 'p@ss w/"quote"+ü€😀-0123456789';

type Planting = LeakEncoding | "base64-inline-map" | "esbuild-minified" | "none";

function planted(encoding: Planting): Buffer {
  const v = Buffer.from(VALUE);
  const pad = (s: string | Buffer) => Buffer.concat([Buffer.from("const before = 1;\n/*x*/ "), Buffer.from(s), Buffer.from(" // after\n")]);
  switch (encoding) {
    case "raw":
      return pad(v);
    case "json-escaped":
      return pad(JSON.stringify({ sourcesContent: [`const pw = ${JSON.stringify(VALUE)};`] }));
    case "base64":
      return pad(v.toString("base64"));
    case "base64url":
      return pad(Buffer.concat([Buffer.from("?"), v]).toString("base64url"));
    case "hex":
      return pad(v.toString("hex"));
    case "HEX":
      return pad(v.toString("hex").toUpperCase());
    case "url-encoded":
      return pad(`https://x.test/?p=${encodeURIComponent(VALUE)}`);
    case "base64-inline-map": {
      // A value inside a source map's sourcesContent, inside an inline data: URL (any alignment).
      const map = JSON.stringify({ version: 3, sources: ["a.ts"], sourcesContent: [`// ${VALUE}`], mappings: "" });
      return pad(`//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString("base64")}`);
    }
    case "esbuild-minified":
      // What esbuild really prints: single quotes, \xFC, \u20AC, \u{1F600}.
      return pad(transformSync(`export const pw = ${JSON.stringify(VALUE)};`, { minify: true, format: "esm" }).code);
    case "none":
      return pad("nothing to see here");
  }
}

describe("scanForLeaks", () => {
  const cases: [Planting, LeakEncoding[]][] = [
    ["raw", ["raw"]],
    ["json-escaped", ["json-escaped"]],
    ["base64", ["base64"]],
    ["base64url", ["base64url"]],
    ["esbuild-minified", ["json-escaped"]],
    ["hex", ["hex"]],
    ["HEX", ["HEX"]],
    ["url-encoded", ["url-encoded"]],
    ["base64-inline-map", ["base64"]],
  ];
  for (const [planting, expected] of cases) {
    it(`finds a value planted ${planting}, reporting file and offset, never the value`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "sk-scan-"));
      mkdirSync(join(dir, "assets"));
      const content = planted(planting);
      writeFileSync(join(dir, "assets", "out.js"), content);
      writeFileSync(join(dir, "clean.js"), planted("none"));
      const r = await scanForLeaks(dir, new Map([["db-password", te.encode(VALUE)]]));
      expect(r.filesScanned).toBe(2);
      expect(r.findings.length).toBeGreaterThan(0);
      expect(new Set(r.findings.map((f) => f.encoding))).toEqual(new Set(expected));
      for (const f of r.findings) {
        expect(f).toEqual({ file: join("assets", "out.js"), offset: expect.any(Number), name: "db-password", encoding: f.encoding });
        expect(f.offset).toBeGreaterThanOrEqual(24); // inside the planted text, after the padding
        expect(f.offset).toBeLessThan(content.length);
      }
      expect(JSON.stringify(r)).not.toContain("p@ss");
    });
  }

  it("finds nothing in clean output and skips short values with a note", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sk-scan-"));
    writeFileSync(join(dir, "a.js"), "const ok = true; const port = 8080;");
    const r = await scanForLeaks(dir, new Map([["flag", te.encode("true")], ["long", te.encode("not-in-the-output-xyz")]]));
    expect(r.findings).toEqual([]);
    expect(r.skippedShort).toEqual(["flag"]);
    expect(r.valuesChecked).toBe(1);
  });

  it("finds binary values (base64 of raw bytes) too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sk-scan-"));
    const bytes = Uint8Array.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 7, 8, 9]);
    writeFileSync(join(dir, "a.js"), `x="${Buffer.from(bytes).toString("base64")}"`);
    const r = await scanForLeaks(dir, new Map([["bin", bytes]]));
    expect(r.findings.map((f) => f.encoding)).toContain("base64");
  });
});

describe("status", () => {
  const t = (iso: string) => Date.parse(iso);
  const store = parseStore(
    JSON.stringify({
      sealkit: 1,
      storeId: "AAAAAAAAAAAAAAAAAAAAAA",
      generation: 3,
      createdAt: "2026-01-01T00:00:00.000Z",
      dataKeyCreatedAt: "2026-06-01T00:00:00.000Z",
      keys: [{ provider: "local", keyRef: "local:00000000", wrapped: "AAAA", context: {}, createdAt: "2026-09-01T00:00:00.000Z" }],
      secrets: {
        old: { nonce: "AAAAAAAAAAAAAAAA", ciphertext: "AAAAAAAAAAAAAAAAAAAAAA==", updatedAt: "2026-02-01T00:00:00.000Z" },
        fresh: { nonce: "AAAAAAAAAAAAAAAA", ciphertext: "AAAAAAAAAAAAAAAAAAAAAA==", updatedAt: "2026-11-30T00:00:00.000Z" },
      },
    }),
  );
  const now = t("2026-12-01T00:00:00.000Z");

  it("parses durations and refuses nonsense", () => {
    expect(parseDuration("90d")).toBe(90 * 86_400_000);
    expect(parseDuration("1d12h")).toBe(36 * 3_600_000);
    expect(parseDuration("2w")).toBe(14 * 86_400_000);
    for (const bad of ["", "90", "d", "1x", "-1d", "0d", "1d 2h"]) expect(() => parseDuration(bad), bad).toThrow(/invalid duration/);
    expect(parseSince("2026-03-01").toISOString()).toBe("2026-03-01T00:00:00.000Z");
    expect(parseSince("10d", now).toISOString()).toBe("2026-11-21T00:00:00.000Z");
  });

  it("reports ages and nothing stale without thresholds", () => {
    const s = storeStatus("f", store, { now });
    expect(s.dataKeyAgeMs).toBe(now - t("2026-06-01T00:00:00.000Z"));
    expect(s.keys[0]?.ageMs).toBe(now - t("2026-09-01T00:00:00.000Z"));
    expect(s.stale).toEqual([]);
    expect(() => assertFresh(s.stale)).not.toThrow();
  });

  it("--max-age flags the data key and wraps just past the threshold, not before", () => {
    const dataKeyAge = now - t("2026-06-01T00:00:00.000Z");
    expect(storeStatus("f", store, { now, maxAgeMs: dataKeyAge }).stale).toEqual([]);
    const s = storeStatus("f", store, { now, maxAgeMs: dataKeyAge - 1 });
    expect(s.stale.map((x) => x.kind)).toEqual(["data-key"]);
    const both = storeStatus("f", store, { now, maxAgeMs: parseDuration("30d") });
    expect(both.stale.map((x) => [x.kind, x.fix])).toEqual([
      ["data-key", "sealkit rotate"],
      ["wrap", "sealkit rekey"],
    ]);
    expect(() => assertFresh(both.stale)).toThrow(expect.objectContaining({ code: "E_STALE" }));
  });

  it("--max-secret-age and --since name the old values", () => {
    const s = storeStatus("f", store, { now, maxSecretAgeMs: parseDuration("30d"), since: new Date("2026-03-01") });
    expect(s.stale.map((x) => [x.kind, x.subject])).toEqual([["secret", "old"]]);
    expect(s.unchangedSince?.names).toEqual(["old"]);
  });
});
