import { configDefaults, defineConfig } from "vitest/config";
import { SlowFilesFirstSequencer } from "./test/slow-files-first-sequencer.js";

/**
 * In-process tests: they share a worker and the modules it has loaded, instead of a fresh
 * process and module graph per file (about a second a file on 2 cores, more than most of these
 * files take to run). A test here must leave no global change behind.
 */
const SHARED_WORKER = ["test/unit/**/*.test.ts", "test/property/**/*.test.ts", "test/tidy.test.ts"];
/** In-process tests that replace a module (vi.mock): each needs a module graph of its own. */
const MOCKING = ["test/unit/node/storage/log-storage-faults.test.ts"];
/**
 * Storage tests (native lmdb, large buffers, kill -9 children) keep a process per file: in the
 * shared worker one of them took the worker down once ("Worker exited unexpectedly", CI run of
 * 2026-12-05 10:01), after a hundred files had run in it.
 */
const OWN_PROCESS = [
  "test/unit/node/storage/**/*.test.ts",
  "test/property/node/storage/**/*.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Integration tests start real node processes; two files at a time fit 2 cores.
    maxWorkers: 2,
    // Slow files first on a cold cache, so that none of them is the last to start.
    sequence: { sequencer: SlowFilesFirstSequencer },
    reporters: ["default", "json"],
    outputFile: { json: ".test-results/results.json" },
    projects: [
      {
        extends: true,
        test: {
          name: "shared-worker",
          include: SHARED_WORKER,
          exclude: [...configDefaults.exclude, ...MOCKING, ...OWN_PROCESS],
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "own-worker",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...SHARED_WORKER],
        },
      },
      { extends: true, test: { name: "mocking", include: MOCKING } },
      { extends: true, test: { name: "storage", include: OWN_PROCESS, exclude: MOCKING } },
    ],
  },
});
