// Summarises sampling heap profiles (scripts/lib/heap-sample.ts) into the bytes each function
// allocated, freed since or not: where a process's garbage comes from (issue 16; not a test).
// A *.survivors.heapprofile counts only what survived scavenges (promoted, or alive at exit).
// Run: npx tsx scripts/heap-summary.ts FILE... [--top 40]

import { readFileSync } from "node:fs";

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; lineNumber: number };
  readonly selfSize: number;
  readonly children?: readonly HeapNode[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt < 0 ? 40 : Number(args[topAt + 1]);
const files = args.filter(
  (arg, index) => !arg.startsWith("--") && (topAt < 0 || index !== topAt + 1),
);
if (files.length === 0 || !(top > 0)) {
  console.error("usage: npx tsx scripts/heap-summary.ts FILE.heapprofile... [--top N (N ≥ 1)]");
  process.exit(2);
}
for (const file of files) {
  let profile: { head: HeapNode };
  try {
    profile = JSON.parse(readFileSync(file, "utf8")) as { head: HeapNode };
    if (typeof profile?.head !== "object") throw new Error("no profile head: not a .heapprofile");
  } catch (error) {
    console.error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = `${functionName || "(anonymous)"} ${url.replace(/.*\/(dist|node_modules)\//, "")}:${lineNumber + 1}`;
    bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children ?? []) walk(child);
  };
  walk(profile.head);
  // heap-sample.ts names a profile of only what survived scavenges *.survivors.heapprofile.
  const what = file.endsWith(".survivors.heapprofile") ? "survived scavenges" : "allocated";
  console.log(`${file}: ${(total / 1e6).toFixed(1)} MB ${what} (estimated from samples)`);
  const rows = [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [where, size] of rows) {
    console.log(
      `${((100 * size) / total).toFixed(1).padStart(5)}% ${(size / 1e6).toFixed(1).padStart(8)} MB  ${where}`,
    );
  }
}
