import { webcrypto } from "node:crypto";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  encodeEnvelope,
  encodeKeyRecord,
  guardProvider,
  newDataKey,
  newStoreId,
  sealValue,
  wrapContext,
} from "@sealkit/envelope";
import { localProvider } from "@sealkit/envelope/local";
import { PKG, requireBuild } from "./_dist.js";

const ENTRY = `
import { configure, register, secret, secretBytes, preload } from "./dist/index.js";
import { registerProvider } from "@sealkit/envelope";
import { localProvider } from "@sealkit/envelope/local";
(async () => {
  try {
    registerProvider(localProvider({ key: INPUT.masterKey }));
    const events = [];
    configure({ onEvent: (e) => events.push(e.type) });
    register(INPUT.keyRecord, INPUT.envelopes, { pins: INPUT.pins });
    await preload();
    const text = await secret("db-password");
    const bytes = await secretBytes("blob");
    done({ text, bytes: Array.from(bytes), events });
  } catch (e) {
    done({ error: String(e && e.stack || e) });
  }
})();
`;

describe("the neutral build in a context with only web globals", () => {
  it("opens secrets with WebCrypto, no node: module, no process", async () => {
    requireBuild();
    const masterKey = newDataKey();
    const storeId = newStoreId();
    const dataKey = newDataKey();
    const context = wrapContext(storeId, 1);
    const wrapped = await guardProvider(localProvider({ key: masterKey })).wrapKey(dataKey, { keyRef: "local", context });
    const keyRecord = encodeKeyRecord({ version: 1, storeId, generation: 1, keys: [wrapped] });
    const envelopes = {
      "db-password": encodeEnvelope(sealValue(dataKey, { storeId, generation: 1, name: "db-password" }, "hunter2")),
      blob: encodeEnvelope(sealValue(dataKey, { storeId, generation: 1, name: "blob" }, new Uint8Array([0, 255, 7]))),
    };
    const out = await build({
      stdin: { contents: ENTRY, resolveDir: PKG, loader: "js" },
      bundle: true,
      format: "iife",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    const code = out.outputFiles[0]?.text as string;
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/\brequire\(/);

    const result = await new Promise<any>((resolve) => {
      const sandbox = {
        INPUT: { masterKey: Buffer.from(masterKey).toString("base64"), keyRecord, envelopes, pins: [`local:${wrapped.keyRef}`] },
        done: resolve,
        crypto: webcrypto,
        TextEncoder,
        TextDecoder,
        atob,
        btoa,
        AbortController,
        AbortSignal,
        Event,
        EventTarget,
        DOMException,
        setTimeout,
        clearTimeout,
        queueMicrotask,
        console,
      };
      runInNewContext(code, sandbox, { filename: "neutral-bundle.js" });
    });
    expect(result.error).toBeUndefined();
    expect(result.text).toBe("hunter2");
    expect(result.bytes).toEqual([0, 255, 7]);
    expect(result.events).toContain("unwrap.success");
  });
});
