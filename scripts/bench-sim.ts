// Simulation CPU per seed in one process, for comparing two builds side by side (issue 13):
// runs `--warm` seeds, then `--seeds` more, from the build under ROOT (its dist/), and prints
// the main thread's CPU per seed (from /proc, Linux), the process's (JIT and GC threads too) and
// the wall clock's. Two builds started at once share the machine's load, so their ratio holds
// on a busy machine where one run after the other does not. Not a test.
// Run: node dist/scripts/bench-sim.js ROOT [--warm 20] [--seeds 60]
//   e.g. node dist/scripts/bench-sim.js /work/wt-old & node dist/scripts/bench-sim.js . ; wait

import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { runSimulation as RunSimulation } from "./sim/run-simulation.js";

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

/** CPU milliseconds of this process's main thread (utime + stime of its task, 10 ms ticks). */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? ".");
  const warm = argument("warm", 20);
  const seeds = argument("seeds", 60);
  const module = pathToFileURL(path.join(root, "dist/scripts/sim/run-simulation.js")).href;
  const { runSimulation } = (await import(module)) as { runSimulation: typeof RunSimulation };
  const run = async (seed: number): Promise<void> => {
    const result = await runSimulation({ seed, steps: 300, mutation: "none" });
    if (!result.ok) console.log(`seed ${seed} failed: ${result.failures.slice(0, 2).join("; ")}`);
  };
  for (let seed = 1; seed <= warm; seed++) await run(seed);
  const mainBefore = mainThreadCpuMs();
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  for (let seed = warm + 1; seed <= warm + seeds; seed++) await run(seed);
  const cpu = process.cpuUsage(cpuBefore);
  console.log(
    JSON.stringify({
      root,
      seeds: `${warm + 1}..${warm + seeds}`,
      mainMsPerSeed: Number(((mainThreadCpuMs() - mainBefore) / seeds).toFixed(1)),
      cpuMsPerSeed: Number(((cpu.user + cpu.system) / 1000 / seeds).toFixed(1)),
      wallMsPerSeed: Number(((performance.now() - wallBefore) / seeds).toFixed(1)),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
