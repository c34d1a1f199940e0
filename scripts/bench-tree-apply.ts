// Micro-benchmark (not a test): the CPU cost of anti-entropy tree maintenance per write in a
// tight loop, apart from any cluster: PartitionTrees.apply of a new version of a known key, and
// its parts versionHash and storageKeyString (the replica builds that id once per write and
// passes it on). Run: npx tsx scripts/bench-tree-apply.ts [--keys 10000]

import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { PartitionTrees } from "../node/anti-entropy/partition-trees.js";
import { storageKeyString } from "../node/storage/storage-key.js";
import { EMPTY_DVV_SET, update, type DvvSet, type Version } from "../node/core/dvv.js";
import { versionHash } from "../node/core/version-hash.js";

const ROUNDS = 20;

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .option("keys", { type: "number", default: 10_000, describe: "Keys written per round" })
    .check((argv) => {
      if (!(Number.isInteger(argv.keys) && argv.keys > 0)) {
        throw new Error(`--keys must be a positive integer, got ${argv.keys}`);
      }
      return true;
    })
    .strict()
    .help()
    .parseAsync();
  const count = args.keys;
  const version: Version = {
    value: new Uint8Array(1024),
    contentType: "",
    metadata: {},
    lastModifiedMs: 1,
    deleted: false,
  };
  const keys = Array.from({ length: count }, (_, index) => Buffer.from(`user${index}`));
  // Objects as a 3-replica cluster makes them: two actors' writes, then a third version.
  const first: DvvSet[] = keys.map(() => {
    let object = update(EMPTY_DVV_SET, EMPTY_DVV_SET.context, "n1.abcdef12", version).object;
    object = update(object, object.context, "n2.abcdef12", version).object;
    return object;
  });
  const second = first.map(
    (object) => update(object, object.context, "n3.abcdef12", version).object,
  );
  const trees = new PartitionTrees(64);
  trees.markReady();
  keys.forEach((key, index) => trees.apply("bench", key, first[index]));
  const time = (label: string, work: (round: number) => void): void => {
    const startedMs = performance.now();
    for (let round = 0; round < ROUNDS; round++) work(round);
    const perOpUs = ((performance.now() - startedMs) * 1000) / (ROUNDS * count);
    console.log(`${label.padEnd(34)} ${perOpUs.toFixed(2)} µs per write`);
  };
  time("PartitionTrees.apply (known key)", (round) => {
    const objects = round % 2 === 0 ? second : first;
    keys.forEach((key, index) => trees.apply("bench", key, objects[index]));
  });
  time("versionHash", () =>
    keys.forEach((key, index) => versionHash("bench", key, second[index]!)),
  );
  const ids = keys.map((key) => storageKeyString("bench", key));
  time("PartitionTrees.apply (id given)", (round) => {
    const objects = round % 2 === 0 ? second : first;
    keys.forEach((key, index) => trees.apply("bench", key, objects[index], ids[index]));
  });
  time("storageKeyString", () => keys.forEach((key) => storageKeyString("bench", key)));
}

void main();
