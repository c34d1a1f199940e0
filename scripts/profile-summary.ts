// Summarises V8 .cpuprofile files (from `node --cpu-prof`, e.g. scripts/bench-cpu.ts
// --cpu-prof-dir) into where the CPU went (issue 16): self time per layer (the frame's own
// code: grpc-js, protobufjs, Node's HTTP/2, dkv's coordinator, node core, storage, ...), the
// same time attributed to the nearest dkv frame on the stack (which dkv layer caused it), and
// the functions with the most self time. Idle time is excluded. Not a test.
// Run: npx tsx scripts/profile-summary.ts DIR_OR_FILES... [--top 30]

import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface Profile {
  readonly startTime: number;
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Layers by the frame's script, first match wins. */
const LAYERS: readonly (readonly [string, (frame: CallFrame) => boolean])[] = [
  ["idle", (f) => f.functionName === "(idle)"],
  ["GC", (f) => f.functionName === "(garbage collector)"],
  ["native/unnamed (program)", (f) => f.functionName === "(program)"],
  ["grpc-js", (f) => f.url.includes("/@grpc/")],
  ["protobufjs", (f) => f.url.includes("/protobufjs/") || f.url.includes("/@protobufjs/")],
  ["logging (pino)", (f) => f.url.includes("/pino") || f.url.includes("/sonic-boom/")],
  ["metrics (prom-client)", (f) => f.url.includes("/prom-client/")],
  ["lmdb", (f) => f.url.includes("/lmdb")],
  ["other node_modules", (f) => f.url.includes("/node_modules/")],
  ["dkv proto/generated", (f) => f.url.includes("/dist/proto/")],
  ["dkv coordinator/core", (f) => f.url.includes("/dist/coordinator/core/")],
  ["dkv coordinator", (f) => f.url.includes("/dist/coordinator/")],
  ["dkv node/core dvv", (f) => /\/dist\/node\/core\/(dvv|siblings|causal-context)/.test(f.url)],
  ["dkv node/core object codec", (f) => /\/dist\/node\/core\/object-/.test(f.url)],
  ["dkv node/core merkle", (f) => /\/dist\/node\/core\/(merkle|version-)/.test(f.url)],
  ["dkv node/core other", (f) => f.url.includes("/dist/node/core/")],
  ["dkv storage", (f) => f.url.includes("/dist/node/storage/")],
  ["dkv anti-entropy", (f) => f.url.includes("/dist/node/anti-entropy/")],
  ["dkv hints", (f) => f.url.includes("/dist/node/hints/")],
  ["dkv membership", (f) => f.url.includes("/dist/node/membership/")],
  ["dkv metrics", (f) => f.url.includes("/dist/node/metrics/")],
  ["dkv wire/security", (f) => /\/dist\/node\/(wire|security)\//.test(f.url)],
  ["dkv replica stream", (f) => /\/dist\/node\/replica-stream/.test(f.url)],
  ["dkv replica/other node", (f) => f.url.includes("/dist/node/")],
  ["dkv cli", (f) => f.url.includes("/dist/cli/")],
  ["node http2", (f) => f.url.includes("internal/http2")],
  ["node net/tls/stream", (f) => /node:(internal\/)?(net|tls|_tls|stream|streams)/.test(f.url)],
  ["node timers", (f) => f.url.includes("internal/timers")],
  ["node fs", (f) => /node:(internal\/)?fs/.test(f.url)],
  [
    "node events/process ticks",
    (f) => /internal\/(process|events|async_hooks)|node:events/.test(f.url),
  ],
  ["node other", (f) => f.url.startsWith("node:")],
  ["native (named, no script)", (f) => f.url === ""],
];

function layerOf(frame: CallFrame): string {
  for (const [name, matches] of LAYERS) if (matches(frame)) return name;
  return "other";
}

function isDkv(frame: CallFrame): boolean {
  return frame.url.includes("/dist/") && !frame.url.includes("/node_modules/");
}

function profileFiles(inputs: readonly string[]): string[] {
  const files: string[] = [];
  for (const input of inputs) {
    if (statSync(input).isDirectory()) {
      for (const name of readdirSync(input)) {
        const full = path.join(input, name);
        if (statSync(full).isDirectory()) files.push(...profileFiles([full]));
        else if (name.endsWith(".cpuprofile")) files.push(full);
      }
    } else files.push(input);
  }
  return files;
}

/** The time windows of the phases named like `phase` in DIR/phases.json. */
function phaseWindows(dir: string, phase: string): { startUs: number; endUs: number }[] {
  const all = JSON.parse(readFileSync(path.join(dir, "phases.json"), "utf8")) as {
    name: string;
    startUs: number;
    endUs: number;
  }[];
  return all.filter((window) => window.name.includes(phase));
}

function main(): void {
  const argv = process.argv.slice(2);
  const topIndex = argv.indexOf("--top");
  const top = topIndex < 0 ? 30 : Number(argv[topIndex + 1]);
  const focusIndex = argv.indexOf("--inclusive");
  const focus = focusIndex < 0 ? [] : (argv[focusIndex + 1] ?? "").split(",");
  const phaseIndex = argv.indexOf("--phase");
  const phase = phaseIndex < 0 ? undefined : (argv[phaseIndex + 1] ?? "");
  const skip = new Set(
    [topIndex, focusIndex, phaseIndex].filter((i) => i >= 0).flatMap((i) => [i, i + 1]),
  );
  const inputs = argv.filter((_, i) => !skip.has(i));
  const inclusive = new Map<string, number>();
  const selfByLayer = new Map<string, number>();
  const byDkvLayer = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  let totalUs = 0;
  for (const file of profileFiles(inputs)) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes)
      for (const child of node.children ?? []) parent.set(child, node.id);
    // With --phase, only samples inside the windows of the phases whose names contain it
    // (phases.json, written by bench-cpu.ts beside the profiles).
    const windows = phase === undefined ? undefined : phaseWindows(path.dirname(file), phase);
    const selfUs = new Map<number, number>();
    let atUs = profile.startTime;
    profile.samples.forEach((id, index) => {
      const deltaUs = profile.timeDeltas[index] ?? 0;
      atUs += deltaUs;
      if (windows !== undefined && !windows.some((w) => atUs >= w.startUs && atUs <= w.endUs)) {
        return;
      }
      selfUs.set(id, (selfUs.get(id) ?? 0) + deltaUs);
    });
    for (const [id, us] of selfUs) {
      const node = byId.get(id);
      if (node === undefined) continue;
      const layer = layerOf(node.callFrame);
      if (layer === "idle") continue;
      totalUs += us;
      selfByLayer.set(layer, (selfByLayer.get(layer) ?? 0) + us);
      const frame = node.callFrame;
      const name = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(dist|node_modules)\//, "")}:${frame.lineNumber + 1}`;
      selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + us);
      // The nearest dkv frame at or above this one says which dkv layer caused the time.
      let cursor: number | undefined = id;
      let owner = "(no dkv frame on the stack)";
      if (layer === "GC" || layer === "native/unnamed (program)") owner = layer;
      else {
        while (cursor !== undefined) {
          const frameAbove = byId.get(cursor)?.callFrame;
          if (frameAbove !== undefined && isDkv(frameAbove)) {
            owner = layerOf(frameAbove);
            break;
          }
          cursor = parent.get(cursor);
        }
      }
      byDkvLayer.set(owner, (byDkvLayer.get(owner) ?? 0) + us);
      // Inclusive time of the --inclusive functions: each sample once per name on its stack.
      if (focus.length > 0) {
        const seen = new Set<string>();
        for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
          const name = byId.get(at)?.callFrame.functionName ?? "";
          if (focus.includes(name)) seen.add(name);
        }
        for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  const print = (title: string, table: Map<string, number>, limit = Infinity): void => {
    console.log(`\n${title} (busy ${(totalUs / 1e6).toFixed(2)} s)`);
    console.log("| share | seconds | layer |\n|---:|---:|---|");
    [...table.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .forEach(([name, us]) =>
        console.log(
          `| ${((us / totalUs) * 100).toFixed(1)}% | ${(us / 1e6).toFixed(2)} | ${name} |`,
        ),
      );
  };
  print("Self time per layer", selfByLayer);
  print("Self time attributed to the nearest dkv frame on the stack", byDkvLayer);
  if (focus.length > 0) print("Inclusive time of the --inclusive functions", inclusive);
  print(`Top ${top} functions by self time`, selfByFunction, top);
}

main();
