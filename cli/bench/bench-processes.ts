// The processes `dkv bench` starts (nodes, load workers, the echo server): every one is
// registered here so that the bench stops all of them when it ends, fails or gets Ctrl-C.
// Also the little IPC helpers the bench uses to talk to its forked children.

import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stopProcess } from "../local-cluster.js";

/** The child processes of one bench run. */
export class BenchProcesses {
  readonly #children = new Set<ChildProcess>();

  /** Registers a child; it leaves the set when it exits. */
  add(child: ChildProcess): ChildProcess {
    this.#children.add(child);
    child.once("exit", () => this.#children.delete(child));
    return child;
  }

  /** Forks a module of this folder (by base name) with an IPC channel. */
  forkModule(baseName: string): ChildProcess {
    const here = fileURLToPath(import.meta.url);
    const modulePath = path.join(path.dirname(here), `${baseName}${path.extname(here)}`);
    return this.add(fork(modulePath, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
  }

  /** SIGTERM to every child still running, SIGKILL after graceMs; resolves when all exited. */
  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.#children].map((child) => stopProcess(child, graceMs)));
  }
}

/**
 * Runs the given cleanup on SIGINT/SIGTERM, then exits with 130 (the shell's status for
 * Ctrl-C). Returns a function that removes the handlers.
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping every process the bench started ...`);
    cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/** Resolves with the first message the predicate accepts; rejects if the child exits first. */
export function nextMessage<Message>(
  child: ChildProcess,
  accept: (message: Message) => boolean,
  timeoutMs: number,
  what: string,
): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Message): void => {
      if (!accept(message)) return;
      finish();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      finish();
      reject(new Error(`${what}: process ${child.pid} exited (${signal ?? `code ${code}`})`));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${what}: no answer from process ${child.pid} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

/** Linux's USER_HZ: /proc reports CPU time in ticks of 1/100 s on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; undefined off Linux. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name "(...)": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** The CPU seconds of several processes together; undefined when any cannot be read. */
export function processesCpuSeconds(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const seconds = processCpuSeconds(pid);
    if (seconds === undefined) return undefined;
    total += seconds;
  }
  return total;
}

/** CPU seconds the whole machine has spent busy (every core, every process), from /proc/stat. */
export function machineBusyCpuSeconds(): number | undefined {
  try {
    const first = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    // cpu  user nice system idle iowait irq softirq steal ...
    const [user, nice, system, , , irq, softirq, steal] = first
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const ticks = [user, nice, system, irq, softirq, steal].reduce<number>(
      (sum, value) => sum + (value ?? 0),
      0,
    );
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
