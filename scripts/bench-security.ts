// YCSB-A with security on (TLS + authentication, as a node runs by default) against --insecure,
// in one run (issue 15, DESIGN §9: target ≥ 0.9×; a benchmark, not a test). Two 3-node
// clusters side by side, driven in turn in ABBA slices by one closed loop
// (scripts/lib/sliced-pair.ts). The figure is the secure cluster's throughput over the insecure
// one's, pooled over all slices, with each ABBA pair's ratio beside; server CPU per operation
// likewise. The secure client authenticates with the bootstrap admin's certificate.
// Run: npm run bench:security -- [--slices 12] [--slice-seconds 5] [--warmup-seconds 10]
//      [--concurrency 64] [--records 5000] [--routing given|spread] [--session] [--json]
//      [--cpu-prof-dir DIR] (then scripts/profile-summary.ts DIR/secure, DIR/insecure)
//      [--start-orders 2|1] (2, the default: half the slices with each cluster started first)

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { builtMainScript } from "./lib/fault-cluster.js";
import {
  SLICED_PAIR_ARGS,
  checkSlicedPairArgs,
  formatSlicedPair,
  runSlicedPair,
  slicedPairOptions,
  stopOnInterrupt,
} from "./lib/sliced-pair.js";

const TARGET = 0.9;

const args = await yargs(hideBin(process.argv))
  .options(SLICED_PAIR_ARGS)
  .check(checkSlicedPairArgs)
  .strict()
  .parseAsync();
stopOnInterrupt();
const main = builtMainScript();
const options = slicedPairOptions(args, [
  { label: "secure", mainScript: main, serveArgs: [] },
  { label: "insecure", mainScript: main, serveArgs: ["--insecure"] },
]);
const report = await runSlicedPair(options);
const met = report.throughputRatio >= TARGET;
if (args.json) {
  console.log(JSON.stringify({ ...report, target: { throughputRatioMin: TARGET, met } }));
} else {
  console.log(formatSlicedPair(options, report));
  console.log(
    `target: TLS + auth ≥ ${TARGET}× the throughput of --insecure: ${met ? "met" : "not met"}`,
  );
}
