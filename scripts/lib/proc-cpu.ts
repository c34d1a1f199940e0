// CPU time and sleeps of a process and its threads, read from /proc (Linux): the benchmarks'
// server CPU per operation (DESIGN §9). Not a test.

import { readdirSync, readFileSync } from "node:fs";

/** CPU seconds a process has used in user and in system mode, from /proc/PID/stat. */
export function cpuSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name.
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** Context switches (voluntary: a thread went to sleep) of every thread of a process. */
export function contextSwitches(pid: number): number {
  let switches = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, "utf8");
      switches += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // the thread ended meanwhile
    }
  }
  return switches;
}

/** CPU seconds per thread name (main thread "node", V8 and libuv workers) of a process. */
export function threadCpu(pid: number, into: Map<string, number>): void {
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "");
      // The main (JavaScript) thread has the process's id; V8's GC helpers and libuv's pool not.
      const name = task === String(pid) ? "main" : comm;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      into.set(name, (into.get(name) ?? 0) + seconds);
    } catch {
      // the thread ended meanwhile
    }
  }
}
