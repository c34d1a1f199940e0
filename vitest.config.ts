import { defineConfig } from "vitest/config";
import { SlowFilesFirstSequencer } from "./test/slow-files-first-sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Integration tests start real node processes; two files at a time fit 2 cores.
    maxWorkers: 2,
    // Slow files first on a cold cache, so that none of them is the last to start.
    sequence: { sequencer: SlowFilesFirstSequencer },
    reporters: ["default", "json"],
    outputFile: { json: ".test-results/results.json" },
  },
});
