// The Node.js flags a dkv node runs with. The installed `dkv` command passes them (the first
// line of cli/main.ts); nodes started by `dkv cluster up`, `dkv cluster add`, the tests and the
// benchmarks get them from spawnNode; `dkv serve` warns at start when one is missing.

/**
 * Flags of every node's Node.js process, both about full (mark-compact) collections, whose
 * marking takes a 1M-key node (~280 MB live) 0.3-0.4 s of its main thread each:
 * - no memory reducer: after a burst of allocation (a cold start's tree rebuild, a transfer's
 *   first seconds) it shrinks the heap with a compacting collection that stopped such a node
 *   for 540-811 ms at once (`--trace-gc`);
 * - the heap grows to twice the live data before the next one (V8 picks 1.1× for a node that
 *   allocates slowly): a node sending a partition (a transfer) ran one every 45-80 s, one in
 *   13 minutes with the flag, and its clients' p99 during the transfer went from 2.15× to
 *   1.07-1.28× the quiet one.
 * Memory: the heap holds up to twice the live data. docs/BENCHMARKS.md has the runs.
 */
export const NODE_PROCESS_FLAGS: readonly string[] = [
  "--no-memory-reducer",
  "--heap-growing-percent=100",
];

/**
 * The flags of NODE_PROCESS_FLAGS that a process started with `execArgv` lacks. A flag given
 * with another value (`--heap-growing-percent=50`) or V8's underscore spelling counts as given:
 * the operator chose it.
 */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const given = new Set(execArgv.map(flagName));
  return NODE_PROCESS_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

function flagName(arg: string): string {
  return arg.split("=")[0]!.replaceAll("_", "-");
}
