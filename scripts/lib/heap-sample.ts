// Allocation sampling for a benchmark's node processes (issue 16; not a test): loaded with
// `--import`, it starts V8's sampling heap profiler in the process, keeping the samples of
// objects the garbage collector has since freed (what `--heap-prof` drops), and writes
// DKV_HEAP_SAMPLE_DIR/<pid>.heapprofile when the process exits. Summarise the files with
// scripts/heap-summary.ts. With DKV_HEAP_SAMPLE_SURVIVORS=1 it keeps only the objects that no
// scavenge freed: those promoted to the old generation (and those still alive at exit), which
// only a full collection frees; the file is then <pid>.survivors.heapprofile.
// Run: DKV_HEAP_SAMPLE_DIR=/tmp/heap npx tsx scripts/bench-cpu.ts ... \
//        --node-flag=--import=$PWD/dist/scripts/lib/heap-sample.js   (the nodes inherit the env)

import inspector from "node:inspector";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const dir = process.env.DKV_HEAP_SAMPLE_DIR;
const survivorsOnly = process.env.DKV_HEAP_SAMPLE_SURVIVORS === "1";
if (dir !== undefined && dir !== "") {
  mkdirSync(dir, { recursive: true });
  const session = new inspector.Session();
  session.connect();
  session.post("HeapProfiler.startSampling", {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: !survivorsOnly,
  });
  // An in-process session answers synchronously, so this works inside the exit handler.
  process.on("exit", () => {
    session.post("HeapProfiler.stopSampling", (error, result) => {
      if (error === null) {
        const name = `${process.pid}${survivorsOnly ? ".survivors" : ""}.heapprofile`;
        const file = path.join(dir, name);
        writeFileSync(file, JSON.stringify(result.profile));
      }
    });
  });
}
