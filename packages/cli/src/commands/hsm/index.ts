import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "hsm", description: "Work with master keys in a PKCS#11 HSM (SoftHSM2, AWS CloudHSM, Luna, ...)" },
  subCommands: {
    "create-key": () => import("./create-key.js").then((m) => m.default),
  },
});
