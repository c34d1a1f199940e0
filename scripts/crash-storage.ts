// Long crash run of the log engine: N cycles of "write under load with durable: true, SIGKILL at
// a random moment, reopen, check every acknowledged write", as in the vitest crash test.
// Run: npx tsx scripts/crash-storage.ts [--cycles 1000] [--seed 1] [--dir /tmp]

import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { LogStorage } from "../node/storage/log-storage.js";
import {
  allowedStates,
  checkAgainst,
  compileEngine,
  runCrashCycle,
} from "../test/fixtures/storage/crash-cycle.mjs";

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

async function main(): Promise<number> {
  const cycles = Number(argument("cycles", "20"));
  const firstSeed = Number(argument("seed", "1"));
  const workDir = await fs.mkdtemp(path.join(argument("dir", os.tmpdir()), "dkv-crash-"));
  const engineDir = await compileEngine(path.join(workDir, "engine"));
  const dataDir = path.join(workDir, "data");
  const known = new Map<string, string>();
  let acknowledged = 0;
  let failures = 0;
  try {
    for (let cycle = 0; cycle < cycles; cycle += 1) {
      const seed = firstSeed + cycle * 7919;
      const killAfterMs = 10 + Math.floor(Math.random() * 300);
      const lines = await runCrashCycle(engineDir, dataDir, seed, killAfterMs);
      const states = allowedStates(lines, known);
      acknowledged += states.acknowledged;
      const storage = new LogStorage({
        dir: dataDir,
        segmentBytesMax: 16 * 1024,
        autoMerge: false,
      });
      await storage.open();
      const violations = await checkAgainst(storage, states.allowed, known);
      const { corruptRecords } = storage.stats();
      await storage.close();
      if (violations.length > 0 || corruptRecords > 0) {
        failures += 1;
        console.log(
          `cycle ${cycle} seed ${seed} kill after ${killAfterMs} ms: ${corruptRecords} corrupt`,
        );
        for (const violation of violations) console.log(`  ${violation}`);
      }
      if ((cycle + 1) % 50 === 0)
        console.log(`${cycle + 1}/${cycles} cycles, ${acknowledged} acknowledged writes checked`);
    }
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
  console.log(
    `${cycles - failures} passed, ${failures} failed (${acknowledged} acknowledged writes checked)`,
  );
  return failures === 0 ? 0 : 1;
}

process.exitCode = await main();
