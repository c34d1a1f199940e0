import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Integration tests start real node processes; two files at a time fit 2 cores.
    maxWorkers: 2,
    reporters: ["default", "json"],
    outputFile: { json: ".test-results/results.json" },
  },
});
