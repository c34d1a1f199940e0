// The fast load of the transfer benchmark: writes records 0 … records − 1 (the YCSB key names of
// cli/bench/workload.ts) straight into the stores of nodes that are not running yet, through the
// production Replica and log engine, so the data is real objects in the real format. Each key is
// written once by one replica, as a coordinator would (one dot of the actor "loader"), and the
// same object is merged into the others, as a replicated put leaves it on each of n = 3 nodes.

import { createStorage } from "../../node/storage/create-storage.js";
import { Replica } from "../../node/replica.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { EMPTY_CONTEXT } from "../../node/core/causal-context.js";
import type { Version } from "../../node/core/dvv.js";
import { DEFAULT_BUCKET_NAME, DEFAULT_CONTENT_TYPE } from "../../coordinator/request-decode.js";
import { keyName } from "../../cli/bench/workload.js";

/** What the offline load did. */
export interface OfflineLoadOutcome {
  readonly records: number;
  readonly seconds: number;
}

/** Keys written at a time: bounded so the log engine's write queue (64 MiB) never refuses. */
const KEYS_PER_ROUND = 512;

/**
 * Writes every record into the log stores under each of `dataDirs` (each a node's --data-dir,
 * its node not running), then closes them so that their hint files are written.
 */
export async function offlineLoad(options: {
  readonly dataDirs: readonly string[];
  readonly records: number;
  readonly value: Uint8Array;
  readonly progress?: (done: number) => void;
}): Promise<OfflineLoadOutcome> {
  const startedMs = performance.now();
  const storages = await Promise.all(
    options.dataDirs.map((dir) => createStorage("log", dir, DEFAULT_LIMITS)),
  );
  for (const storage of storages) await storage.open();
  const [first, ...others] = storages.map((storage) => new Replica(storage, "loader"));
  if (first === undefined) throw new Error("offlineLoad needs at least one data directory");
  const version: Version = {
    value: options.value,
    contentType: DEFAULT_CONTENT_TYPE,
    metadata: {},
    lastModifiedMs: Date.now(),
    deleted: false,
  };
  const write = async (index: number): Promise<void> => {
    const key = Buffer.from(keyName(index), "utf8");
    const { object } = await first.coordinate(DEFAULT_BUCKET_NAME, key, EMPTY_CONTEXT, version, {
      durable: false,
      check: () => undefined,
    });
    await Promise.all(
      others.map((replica) => replica.merge(DEFAULT_BUCKET_NAME, key, object, { durable: false })),
    );
  };
  try {
    for (let round = 0; round < options.records; round += KEYS_PER_ROUND) {
      const end = Math.min(options.records, round + KEYS_PER_ROUND);
      const writes: Promise<void>[] = [];
      for (let index = round; index < end; index++) writes.push(write(index));
      await Promise.all(writes);
      options.progress?.(end);
    }
  } finally {
    await Promise.all(storages.map((storage) => storage.close()));
  }
  return { records: options.records, seconds: (performance.now() - startedMs) / 1000 };
}
