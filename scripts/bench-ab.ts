// Two builds (or one build with two sets of `dkv serve` flags) compared in one run: two 3-node
// clusters side by side, driven in turn in ABBA slices by one closed loop
// (scripts/lib/sliced-pair.ts), so that a change's effect on throughput and on server CPU per
// operation shows against the machine's drift (issue 16: every change to a hot path shows its
// before/after CPU per op). A benchmark, not a test.
// Run: npm run bench:ab -- --a dist/cli/main.js --b /tmp/base/dist/cli/main.js [--workload a]
//      [--session] [--routing spread] [--slices 12] [--start-orders 2|1] ... ; a build may carry
//      `dkv serve` flags of its own after "::", e.g. --b "dist/cli/main.js::--no-anti-entropy", and
//      Node.js flags of its own with --a-node-flag / --b-node-flag (e.g.
//      --b-node-flag=--max-semi-space-size=32). By default half the slices run with each side's
//      cluster started first (sliced-pair.ts: the first-started cluster costs more).

import { existsSync } from "node:fs";
import path from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import {
  SLICED_PAIR_ARGS,
  checkSlicedPairArgs,
  formatSlicedPair,
  runSlicedPair,
  slicedPairOptions,
  stopOnInterrupt,
  type Side,
} from "./lib/sliced-pair.js";

const args = await yargs(hideBin(process.argv))
  .option("a", {
    type: "string",
    demandOption: true,
    describe: "Build A: PATH/dist/cli/main.js[::flags]",
  })
  .option("b", { type: "string", demandOption: true, describe: "Build B, as --a" })
  .option("a-node-flag", {
    type: "string",
    array: true,
    default: [] as string[],
    describe: "A Node.js flag of build A's nodes only (--node-flag: both)",
  })
  .option("b-node-flag", {
    type: "string",
    array: true,
    default: [] as string[],
    describe: "A Node.js flag of build B's nodes only",
  })
  .options(SLICED_PAIR_ARGS)
  .check(checkSlicedPairArgs)
  .strict()
  .parseAsync();

/** Side `label` from `--a`/`--b`; exits 2 naming the option when its build is not there. */
function sideOf(label: string, entry: string, nodeFlags: readonly string[]): Side {
  const [main = "", flags = ""] = entry.split("::");
  const mainScript = path.resolve(main);
  if (!existsSync(mainScript)) {
    console.error(`--${label.toLowerCase()}: no build at ${mainScript} (run npm run build there)`);
    process.exit(2);
  }
  return {
    label,
    mainScript,
    serveArgs: flags.split(" ").filter((flag) => flag !== ""),
    nodeFlags,
  };
}

stopOnInterrupt();
const options = slicedPairOptions(args, [
  sideOf("A", args.a, args["a-node-flag"]),
  sideOf("B", args.b, args["b-node-flag"]),
]);
const report = await runSlicedPair(options);
console.log(args.json ? JSON.stringify(report) : formatSlicedPair(options, report));
