import { SealkitError } from "@sealkit/envelope";
import { defineCommand } from "citty";
import { createOut } from "../../output.js";

export default defineCommand({
  meta: {
    name: "create-key",
    description:
      "Generate a non-extractable AES-256 master key inside a PKCS#11 token. The PIN comes from SEALKIT_PKCS11_PIN or SEALKIT_PKCS11_PIN_FILE, never the command line",
  },
  args: {
    module: { type: "string", description: "PKCS#11 module (.so); default: $SEALKIT_PKCS11_MODULE" },
    token: { type: "string", description: "Token label", required: true },
    label: { type: "string", description: "Label (CKA_LABEL) of the new key", required: true },
    json: { type: "boolean", description: "Print machine-readable JSON" },
  },
  async run({ args }) {
    const out = createOut(Boolean(args.json));
    if (!args.token || !args.label) throw new SealkitError("E_INPUT", "sealkit hsm create-key needs --token <token label> and --label <key label>");
    const { createMasterKey } = await import("@sealkit/pkcs11");
    const key = await createMasterKey({
      token: String(args.token),
      label: String(args.label),
      ...(args.module ? { module: String(args.module) } : {}),
    });
    out.result(key, () => {
      out.info(`${out.green("✓")} created master key ${out.bold(key.keyRef)}`);
      out.info("  AES-256, CKA_SENSITIVE, not CKA_EXTRACTABLE, not modifiable: it never leaves the token");
      out.info(key.restrictedToGcm ? "  usable with CKM_AES_GCM only (CKA_ALLOWED_MECHANISMS)" : "  this token ignores CKA_ALLOWED_MECHANISMS");
      out.info(`  next: sealkit init --provider pkcs11 --module ${key.module} --token ${args.token} --key ${args.label}`);
    });
  },
});
