// `npm run sim`: runs the deterministic simulation (scripts/sim/) over many seeds on every core, or
// replays one seed exactly. A failing seed is printed with the command that replays it.
// Run: npm run sim -- [--seeds 1000] (builds, then runs dist/scripts/sim.js), or
//      npx tsx scripts/sim.ts [--seeds 1000] [--first 1] [--seed S] [--steps 300]
//      [--mutation M] [--hints on|off] [--workers N] [--verbose] [--trace-key K]
// --trace-key K (with --seed): every write of key K that a node's engines store goes into the
// trace, to follow one key through a failing run.
// Mutations (test-only breakage the checker must catch): none, lww, broken-merge, fsync-lies,
// forward-gives-up, reap-while-down, hint-early-delete, ae-one-side.

import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { runSimulation, type SimResult } from "./sim/run-simulation.js";
import { MUTATIONS, isMutation, type Mutation } from "./sim/sim-mutation.js";

/** Seeds a worker gets at a time: small enough to balance, large enough to cost little. */
const CHUNK_SEEDS = 8;

interface RunSettings {
  readonly steps: number;
  readonly mutation: Mutation;
  readonly hintedHandoff: boolean | undefined;
}

/** What a worker sends back per seed (a SimResult without the bulky parts). */
interface SeedOutcome {
  readonly seed: number;
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly traceHash: string;
  readonly lostWrites: number;
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

function settingsFromArguments(): RunSettings {
  const mutation = argument("mutation") ?? (flag("lww") ? "lww" : "none");
  if (!isMutation(mutation)) {
    throw new Error(`unknown --mutation ${mutation}; known: ${MUTATIONS.join(", ")}`);
  }
  const hints = argument("hints");
  if (hints !== undefined && hints !== "on" && hints !== "off")
    throw new Error("--hints takes on or off");
  return {
    steps: Number(argument("steps") ?? "300"),
    mutation,
    hintedHandoff: hints === undefined ? undefined : hints === "on",
  };
}

function replayCommand(seed: number, settings: RunSettings): string {
  let command = `npx tsx scripts/sim.ts --seed ${seed} --steps ${settings.steps}`;
  if (settings.mutation !== "none") command += ` --mutation ${settings.mutation}`;
  if (settings.hintedHandoff !== undefined)
    command += ` --hints ${settings.hintedHandoff ? "on" : "off"}`;
  return command;
}

async function runSeed(seed: number, settings: RunSettings): Promise<SeedOutcome> {
  try {
    const result = await runSimulation({ seed, ...withHints(settings) });
    const counts = result.report.counts;
    return {
      seed,
      ok: result.ok,
      failures: result.failures.slice(0, 4),
      traceHash: result.traceHash,
      lostWrites: counts["lost-write"] + counts["lost-element"],
    };
  } catch (error) {
    // A simulator that throws (a livelock, a broken assertion) fails the seed, not the run.
    const message = error instanceof Error ? error.message : String(error);
    return {
      seed,
      ok: false,
      failures: [`the run threw: ${message}`],
      traceHash: "",
      lostWrites: 0,
    };
  }
}

function withHints(settings: RunSettings): {
  steps: number;
  mutation: Mutation;
  hintedHandoff?: boolean;
} {
  const base = { steps: settings.steps, mutation: settings.mutation };
  return settings.hintedHandoff === undefined
    ? base
    : { ...base, hintedHandoff: settings.hintedHandoff };
}

/** `--seed S`: one run, in this process, with its summary and (when failing) its trace tail. */
async function replay(seed: number, settings: RunSettings): Promise<number> {
  const verbose = flag("verbose") ? (line: string): void => console.log(line) : undefined;
  const startedMs = performance.now();
  const result: SimResult = await runSimulation({
    seed,
    ...withHints(settings),
    ...(verbose ? { verbose } : {}),
    ...(argument("trace-key") === undefined ? {} : { traceKey: argument("trace-key")! }),
  });
  console.log(
    `seed ${seed}: ${result.ok ? "ok" : "FAILED"} in ${Math.round(performance.now() - startedMs)} ms`,
  );
  console.log(`trace ${result.traceHash}`);
  for (const [name, value] of Object.entries(result.summary)) console.log(`  ${name}: ${value}`);
  console.log(
    `  acknowledged writes: ${result.report.writes.ok} (lost with no durable copy promised — dw=0, or all dw disks on force-removed nodes: ${result.report.lostUndurable}), ` +
      `max siblings: ${Math.max(0, ...result.report.keys.map((key) => key.siblingsMax))}, ` +
      `writes stored twice: ${result.report.counts["duplicate-value"]}`,
  );
  if (!result.ok) {
    if (!verbose) for (const line of result.traceTail) console.log(`    ${line}`);
    for (const failure of result.failures) console.log(`  ${failure}`);
  }
  return result.ok ? 0 : 1;
}

/** `--seeds N`: many runs spread over worker processes. */
async function many(first: number, count: number, settings: RunSettings): Promise<number> {
  const seeds = Array.from({ length: count }, (_, index) => first + index);
  const workers = Math.max(
    1,
    Math.min(Number(argument("workers") ?? availableParallelism()), count),
  );
  const startedMs = performance.now();
  const outcomes: SeedOutcome[] = [];
  const cpu = { ms: 0 };
  const report = (outcome: SeedOutcome): void => {
    outcomes.push(outcome);
    if (!outcome.ok && settings.mutation === "none") {
      console.log(`seed ${outcome.seed} FAILED: ${outcome.failures.join("; ")}`);
      console.log(`  replay: ${replayCommand(outcome.seed, settings)}`);
    }
    if (outcomes.length % 100 === 0) console.log(`${outcomes.length}/${count} seeds`);
  };
  await Promise.all(Array.from({ length: workers }, () => worker(seeds, settings, report, cpu)));
  const minutes = (performance.now() - startedMs) / 60_000;
  const failed = outcomes.filter((outcome) => !outcome.ok);
  const perMinute = Math.round(count / minutes);
  // CPU time says what the cores can do when nothing else runs on them; wall time says what
  // this run got on a machine that may be shared.
  const cpuMsPerSeed = cpu.ms / count;
  console.log(
    `${count} seeds (${first}..${first + count - 1}), ${settings.steps} operations each, ${workers} workers: ` +
      `${count - failed.length} passed, ${failed.length} failed`,
  );
  console.log(
    `${perMinute} seeds/minute wall clock; ${cpuMsPerSeed.toFixed(1)} ms CPU per seed ` +
      `= ${Math.round((workers * 60_000) / cpuMsPerSeed)} seeds/minute on ${workers} unshared cores`,
  );
  if (settings.mutation !== "none") {
    const lost = failed.reduce((sum, outcome) => sum + outcome.lostWrites, 0);
    const seeds = failed.map((outcome) => outcome.seed).join(", ");
    console.log(
      `mutation ${settings.mutation}: the checker failed ${failed.length}/${count} seeds (${lost} lost writes)` +
        (failed.length === 0 ? "" : `: ${seeds}`),
    );
    return failed.length > 0 ? 0 : 1;
  }
  return failed.length === 0 ? 0 : 1;
}

/** Feeds chunks of seeds to one child process until none are left. */
function worker(
  seeds: number[],
  settings: RunSettings,
  report: (outcome: SeedOutcome) => void,
  cpu: { ms: number },
): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  // Built (dist/scripts/sim.js, `npm run sim`): the workers run the compiled code as it is.
  // Under tsx, its transform keeps function names with a wrapper around every closure made,
  // which costs a seed about 11% more CPU.
  const child: ChildProcess = fork(self, ["--child"], {
    execArgv: self.endsWith(".ts") ? ["--import", "tsx"] : [],
  });
  return new Promise((resolve, reject) => {
    const next = (): void => {
      const chunk = seeds.splice(0, CHUNK_SEEDS);
      if (chunk.length === 0) {
        child.disconnect();
        resolve();
      } else child.send({ seeds: chunk, settings });
    };
    child.on("message", (message: { outcomes: SeedOutcome[]; cpuMs: number }) => {
      cpu.ms += message.cpuMs;
      message.outcomes.forEach(report);
      next();
    });
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`a simulation worker exited with ${code}`));
    });
    next();
  });
}

/** The child side: runs each chunk it is sent and answers with the outcomes. */
function child(): void {
  let current = { seed: 0, settings: settingsFromArguments() };
  process.on("unhandledRejection", (error: unknown) => {
    console.error(`seed ${current.seed}: unhandled rejection: ${String(error)}`);
    console.error(`  replay: ${replayCommand(current.seed, current.settings)}`);
    process.exit(1);
  });
  process.on("message", (message: { seeds: number[]; settings: RunSettings }) => {
    void (async () => {
      const before = process.cpuUsage();
      const outcomes: SeedOutcome[] = [];
      for (const seed of message.seeds) {
        current = { seed, settings: message.settings };
        outcomes.push(await runSeed(seed, message.settings));
      }
      const used = process.cpuUsage(before);
      process.send?.({ outcomes, cpuMs: (used.user + used.system) / 1000 });
    })();
  });
}

async function main(): Promise<number> {
  const settings = settingsFromArguments();
  const seed = argument("seed");
  if (seed !== undefined) return replay(Number(seed), settings);
  return many(Number(argument("first") ?? "1"), Number(argument("seeds") ?? "100"), settings);
}

if (flag("child")) child();
else
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
