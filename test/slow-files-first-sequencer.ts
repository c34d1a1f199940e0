// Vitest's file order when it has no timings (CI installs from scratch, so its cache is empty):
// the files known to take longest start first. Vitest would otherwise start the largest files
// first, and a short file with a long run (durability.test.ts) would start last and run alone
// at the end while the other worker idles. With every file timed, Vitest's order stands.

import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The slowest test files, slowest first: seconds on the 2-core CI machine in the comments.
 * A file missing here only starts later; keep the list to the files past about 20 s.
 */
export const SLOW_FILES: readonly string[] = [
  "test/integration/nemesis.test.ts", // 124 (CI of 2026-12-06, load average ~4)
  "test/integration/transfer-resume.test.ts", // 85-105
  "test/integration/membership.test.ts", // 100
  "test/integration/durability.test.ts", // 93
  "test/integration/bench-smoke.test.ts", // ~80 (137 with the scripts' smoke tests)
  "test/integration/bench-scripts-smoke.test.ts", // ~60
  "test/integration/cli.test.ts", // 44
  "test/integration/anti-entropy.test.ts", // 40
  "test/integration/fault-scripts.test.ts", // 38
  "test/integration/handoff-resume.test.ts", // 37
  "test/sim/sim.test.ts", // 25
  "test/integration/metrics.test.ts", // 25
  "test/integration/access-cli.test.ts", // 24
  "test/integration/abuse-limits.test.ts", // 23
];

/** Vitest's order with timings; the slow files first, then Vitest's order, without. */
export class SlowFilesFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const relativeOf = (file: TestSpecification): string =>
      path.relative(root, file.moduleId).split(path.sep).join("/");
    const timed = sorted.every(
      (file) =>
        this.ctx.cache.getFileTestResults(`${file.project.name}:${relativeOf(file)}`) !== undefined,
    );
    if (timed) return sorted;
    const rank = (file: TestSpecification): number => {
      const at = SLOW_FILES.indexOf(relativeOf(file));
      return at === -1 ? SLOW_FILES.length : at;
    };
    return sorted
      .map((file, index) => ({ file, index }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
      .map(({ file }) => file);
  }
}
