// Crash safety of the log engine: a child process writes under load with durable: true and
// background merges, is SIGKILLed at random moments, and every acknowledged write must read
// back after reopen, with no corruption counted (a killed process leaves at most a torn tail).
// The child imports the engine transpiled to plain JS in beforeAll (see crash-cycle.mjs).

import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allowedStates,
  checkAgainst,
  compileEngine,
  runCrashCycle,
} from "../../../fixtures/storage/crash-cycle.mjs";
import { makeTempDir, openLog, removeDir } from "./storage-test-helpers.js";

/** 20 in the suite; set DKV_CRASH_CYCLES for a longer run (scripts/crash-storage.ts does 1,000). */
const CYCLES = Number(process.env["DKV_CRASH_CYCLES"] ?? "20");

describe("log storage under SIGKILL", () => {
  let workDir: string;
  let engineDir: string;

  beforeAll(async () => {
    workDir = await makeTempDir("dkv-crash-");
    engineDir = await compileEngine(path.join(workDir, "engine"));
  });

  afterAll(async () => {
    await removeDir(workDir);
  });

  it(
    `keeps every acknowledged durable write across ${CYCLES} kill -9 cycles`,
    async () => {
      const dataDir = path.join(workDir, "data");
      const known = new Map<string, string>();
      let acknowledgedTotal = 0;
      for (let cycle = 0; cycle < CYCLES; cycle += 1) {
        const seed = 1 + cycle * 7919;
        const lines = await runCrashCycle(engineDir, dataDir, seed, 20 + ((cycle * 37) % 130));
        const { allowed, acknowledged } = allowedStates(lines, known);
        acknowledgedTotal += acknowledged;
        const storage = await openLog(dataDir, { segmentBytesMax: 16 * 1024, autoMerge: false });
        try {
          const violations = await checkAgainst(storage, allowed, known);
          expect(violations, `cycle ${cycle} (seed ${seed})`).toEqual([]);
          expect(storage.stats().corruptRecords, `cycle ${cycle}`).toBe(0);
        } finally {
          await storage.close();
        }
      }
      expect(acknowledgedTotal).toBeGreaterThan(CYCLES * 10);
    },
    CYCLES * 3_000,
  );
});
