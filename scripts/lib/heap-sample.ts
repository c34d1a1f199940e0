// Allocation sampling for a benchmark's node processes (issue 16; not a test): loaded with
// `--import`, it starts V8's sampling heap profiler in the process, keeping the samples of
// objects the garbage collector has since freed (what `--heap-prof` drops), and writes
// DKV_HEAP_SAMPLE_DIR/<pid>.heapprofile when the process exits. Summarise the files with
// scripts/heap-summary.ts.
// Run: DKV_HEAP_SAMPLE_DIR=/tmp/heap npx tsx scripts/bench-cpu.ts ... \
//        --node-flag=--import=$PWD/dist/scripts/lib/heap-sample.js   (the nodes inherit the env)

import inspector from "node:inspector";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const dir = process.env.DKV_HEAP_SAMPLE_DIR;
if (dir !== undefined && dir !== "") {
  mkdirSync(dir, { recursive: true });
  const session = new inspector.Session();
  session.connect();
  session.post("HeapProfiler.startSampling", {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  // An in-process session answers synchronously, so this works inside the exit handler.
  process.on("exit", () => {
    session.post("HeapProfiler.stopSampling", (error, result) => {
      if (error === null) {
        const file = path.join(dir, `${process.pid}.heapprofile`);
        writeFileSync(file, JSON.stringify(result.profile));
      }
    });
  });
}
