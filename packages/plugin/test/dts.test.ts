/** Generated types: a wrong secret name is a TypeScript error; `sealkit types` writes the same file. */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createContext } from "@sealkit/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Project, makeProject } from "./_support.js";

const run = promisify(execFile);
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const cli = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));
let p: Project;
beforeAll(async () => {
  p = await makeProject();
});
afterAll(() => p.cleanup());

describe("secret name types", () => {
  it("the plugin writes sealkit-env.d.ts when the project has a tsconfig, once per change", async () => {
    await p.write({
      "tsconfig.json": JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", skipLibCheck: true, types: [] },
        include: ["src", "sealkit-env.d.ts"],
      }),
      "src/ok.ts": 'import { secret } from "@sealkit/runtime";\nexport const a = () => secret("db-password");\n',
    });
    const ctx = createContext({ root: p.dir });
    ctx.startBuild();
    expect(await ctx.writeDts()).toBe(true);
    expect(await ctx.writeDts()).toBe(false);
    const text = await readFile(join(p.dir, "sealkit-env.d.ts"), "utf8");
    expect(text).toContain('declare module "@sealkit/runtime"');
    expect(text).toContain('"db-password": true;');
    await run(process.execPath, [tsc, "-p", p.dir]);
  });

  it("a wrong name fails tsc", async () => {
    await p.write({ "src/typo.ts": 'import { secret } from "@sealkit/runtime";\nexport const b = () => secret("db-pasword");\n' });
    const err = await run(process.execPath, [tsc, "-p", p.dir]).then(
      () => undefined,
      (e: { stdout: string }) => e,
    );
    expect(err?.stdout).toMatch(/typo\.ts\(2,31\): error TS2345: Argument of type '"db-pasword"'/);
  });

  it("`sealkit types` writes the same declaration without a build", async () => {
    const out = join(p.dir, "cli-env.d.ts");
    // the CLI as users run it (needs `pnpm build`)
    await run(process.execPath, [cli, "types", "--store", p.store, "--out", out], { env: { ...process.env, NO_COLOR: "1" } });
    const text = await readFile(out, "utf8");
    expect(text).toContain('"api-key": true;');
    expect(text).toContain('"unused-secret": true;');
  });
});
