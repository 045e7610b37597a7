import { createRequire } from "node:module";
import type { Pkcs11Api } from "@sealkit/pkcs11";
import type * as Pkcs11Js from "pkcs11js";
import { ckr } from "../src/_library.js";

/** The raw binding, for tests that poke the token directly (extraction attempts, odd keys). */
export const pkcs11js: typeof Pkcs11Js = createRequire(import.meta.url)("pkcs11js");

/** Counts calls per PKCS#11 function; wraps the provider's real module API. */
export function counting(): { counts: Record<string, number>; real: () => Pkcs11Js.PKCS11; instrument: (api: Pkcs11Api) => Pkcs11Api } {
  const counts: Record<string, number> = {};
  let real: Pkcs11Js.PKCS11 | undefined;
  return {
    counts,
    real: () => real as Pkcs11Js.PKCS11,
    instrument(api) {
      real = api as Pkcs11Js.PKCS11;
      return new Proxy(api, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (typeof v !== "function" || typeof prop !== "string") return v;
          return (...args: unknown[]) => {
            counts[prop] = (counts[prop] ?? 0) + 1;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
  };
}

/** Opens the token with a fresh module instance and logs in, for raw operations. */
export function rawSession(module: string, label: string, pin: string, rw = true) {
  const P = pkcs11js;
  const lib = new P.PKCS11();
  lib.load(module);
  lib.C_Initialize();
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === label);
  if (!slot) throw new Error(`no token ${label}`);
  const session = lib.C_OpenSession(slot, P.CKF_SERIAL_SESSION | (rw ? P.CKF_RW_SESSION : 0));
  lib.C_Login(session, P.CKU_USER, pin);
  const findKey = (keyLabel: string) => {
    lib.C_FindObjectsInit(session, [{ type: P.CKA_LABEL, value: keyLabel }]);
    const h = lib.C_FindObjects(session, 2);
    lib.C_FindObjectsFinal(session);
    if (h.length !== 1) throw new Error(`expected one object labelled ${keyLabel}, found ${h.length}`);
    return h[0] as Buffer;
  };
  return {
    P,
    lib,
    slot,
    session,
    findKey,
    close() {
      lib.C_CloseSession(session);
      lib.C_Finalize();
      lib.close();
    },
  };
}

/** The CKR name a raw pkcs11js call fails with, or "ok". */
export function ckrOf(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    return ckr(e) ?? String(e);
  }
}
