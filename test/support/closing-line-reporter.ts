import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints the plain closing line CI reads ("tests: N passed, N failed, N skipped"), since
 * vitest's own summary is not among the formats CI recognises. A file that failed outside
 * its tests (a `beforeAll`, an import, an unhandled error) counts: the tests it kept from
 * running are failed, not skipped, and a file that failed with every test passed counts one.
 */
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      const moduleFailed = m.state() === "failed";
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === "passed") passed++;
        else if (s === "failed" || (moduleFailed && t.options.mode === "run")) failedHere++;
        else skipped++;
      }
      failed += moduleFailed ? Math.max(1, failedHere) : failedHere;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
