// What a long-lived Map churned once per operation costs the garbage collector (issue 16; not a
// test): 400 operations in flight, each holding ~50 small objects for 0–20 ms, and an entry per
// operation kept, by MODE, nowhere ("none"), in a Map set at the start and deleted at the end
// ("map"), the same with the value set to undefined first ("clear"), in a Map under reused ids
// ("reuse"), or in an array slot set and cleared ("slots"). Prints process CPU per operation;
// run with --trace-gc to count the full collections.
// Run: npx tsx scripts/bench-map-churn.ts none|map|clear|reuse|slots [seconds]

type Mode = "none" | "map" | "clear" | "reuse" | "slots";
const modes: readonly Mode[] = ["none", "map", "clear", "reuse", "slots"];
const mode = process.argv[2] as Mode;
if (!modes.includes(mode)) {
  console.error(`mode must be one of ${modes.join(", ")}`);
  process.exit(2);
}
const seconds = Number(process.argv[3] ?? 5);
if (!(seconds > 0 && seconds <= 3600)) {
  console.error(`seconds must be a number in (0, 3600], got ${process.argv[3]}`);
  process.exit(2);
}

interface Entry {
  readonly resolve: () => number;
}
const pending = new Map<number, Entry | undefined>();
const slots: (Entry | undefined)[] = [];
const free: number[] = [];
let nextId = 1;
let sink = 0;
let done = 0;
const start = performance.now();
const cpuAtStart = process.cpuUsage();

function operation(): void {
  const graph = Array.from({ length: 50 }, (_, i) => ({ i, s: `x${i}`, pair: [i, i + 1] }));
  const entry: Entry = { resolve: () => graph.length };
  let id = 0;
  if (mode === "map" || mode === "clear") {
    id = nextId++;
    pending.set(id, entry);
  } else if (mode === "reuse") {
    id = free.pop() ?? nextId++;
    pending.set(id, entry);
  } else if (mode === "slots") {
    id = free.pop() ?? nextId++;
    slots[id] = entry;
  }
  setTimeout(() => {
    sink += graph.length;
    if (mode === "clear") pending.set(id, undefined);
    if (mode === "map" || mode === "clear" || mode === "reuse") pending.delete(id);
    if (mode === "reuse") free.push(id);
    if (mode === "slots") {
      slots[id] = undefined;
      free.push(id);
    }
    done += 1;
    if (performance.now() - start < seconds * 1000) operation();
  }, Math.random() * 20);
}

for (let index = 0; index < 400; index++) operation();
setTimeout(
  () => {
    const used = process.cpuUsage(cpuAtStart);
    console.log(
      `${mode}: ${done} operations, ${((used.user + used.system) / done).toFixed(1)} µs of CPU per operation (${sink > 0 ? "ran" : "idle"})`,
    );
  },
  seconds * 1000 + 200,
);
