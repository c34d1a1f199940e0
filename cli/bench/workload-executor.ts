// Turns a workload into calls on dkv clients (the same DkvClient for dkv and for the echo
// baseline; one per node, taken in turn, when requests are spread): picks the operation and the
// Zipfian key, remembers the last causal context seen per key so that updates supersede what
// this process saw instead of piling up siblings.

import * as grpc from "@grpc/grpc-js";
import type {
  CallOptions,
  DkvClient,
  GetReply,
  PutItem,
  PutReply,
} from "../../coordinator/client.js";
import type { ItemOutcome } from "../../coordinator/client-batch.js";
import type { OperationResult } from "./load-schedule.js";
import { SeededRandom } from "../../node/core/seeded-random.js";
import { ScrambledZipfianGenerator } from "./zipfian-generator.js";
import {
  chooseOperation,
  insertKeyName,
  keyName,
  type OperationKind,
  type Workload,
} from "./workload.js";

/** Options of a WorkloadExecutor. */
export interface WorkloadExecutorOptions {
  readonly workload: Workload;
  readonly records: number;
  /** Written by every update (and by the preload). */
  readonly value: Uint8Array;
  readonly callOptions: CallOptions;
  readonly seed: number;
  /** Makes this executor's inserted keys its own (insertKeyName). */
  readonly workerIndex: number;
  /** Operations per batch for `batchOperation` (dkv bench --batch); 1 when absent. */
  readonly batch?: number;
}

/** One operation drawn for a batch: its kind and record (or insert) number. */
interface Drawn {
  readonly kind: OperationKind;
  readonly index: number;
}

/** What the reads saw: a check that the store returned what the preload wrote. */
export interface ReadStats {
  readonly reads: number;
  readonly notFound: number;
  readonly siblingsMax: number;
  readonly siblingsTotal: number;
}

/** Runs the operations of one workload against one client. */
export class WorkloadExecutor {
  /** Taken in turn, one per operation (an rmw's two calls go to the same one). */
  readonly #clients: readonly DkvClient[];
  #turn = 0;
  #inserted = 0;
  readonly #options: WorkloadExecutorOptions;
  readonly #random: SeededRandom;
  readonly #keys: ScrambledZipfianGenerator;
  /** Bounded by the record count: one context per key this process has seen. */
  readonly #contexts = new Map<number, Uint8Array>();
  #reads = 0;
  #notFound = 0;
  #siblingsMax = 0;
  #siblingsTotal = 0;

  constructor(clients: readonly DkvClient[], options: WorkloadExecutorOptions) {
    if (clients.length === 0) throw new Error("a workload needs at least one client");
    this.#clients = clients;
    this.#options = options;
    this.#random = new SeededRandom(options.seed);
    this.#keys = new ScrambledZipfianGenerator(options.records, this.#random);
  }

  /** One operation of the workload; never rejects (a failure is a result). */
  readonly operation = async (): Promise<OperationResult> => {
    const kind = chooseOperation(this.#options.workload, this.#random);
    const index = kind === "insert" ? this.#inserted++ : this.#keys.next();
    const client = this.#clients[this.#turn++ % this.#clients.length]!;
    try {
      await this.#run(client, kind, index);
      return { kind, status: "OK" };
    } catch (error) {
      return { kind, status: statusName(error) };
    }
  };

  /**
   * One batch of operations of the workload (dkv bench --batch), all sent to one client: the
   * reads and the read-modify-writes' gets in one BatchGet, the updates and inserts in one
   * BatchPut beside it, and the read-modify-writes' puts, with the contexts their gets saw, in
   * a second BatchPut after the gets. One result per operation, in the order drawn: an item
   * fails alone, and a batch refused whole fails every item it carried.
   */
  readonly batchOperation = async (): Promise<OperationResult[]> => {
    const size = this.#options.batch ?? 1;
    const drawn: Drawn[] = [];
    for (let item = 0; item < size; item++) {
      const kind = chooseOperation(this.#options.workload, this.#random);
      drawn.push({ kind, index: kind === "insert" ? this.#inserted++ : this.#keys.next() });
    }
    const client = this.#clients[this.#turn++ % this.#clients.length]!;
    const results = new Array<OperationResult>(size);
    const positions = (kinds: readonly OperationKind[]): number[] =>
      drawn.flatMap((operation, position) => (kinds.includes(operation.kind) ? [position] : []));
    const seen = new Map<number, Uint8Array>();
    const reading = this.#readBatch(client, drawn, positions(["read", "rmw"]), results, seen);
    await Promise.all([
      reading.then((rmw) => this.#writeBatch(client, drawn, rmw, results, (p) => seen.get(p))),
      this.#writeBatch(client, drawn, positions(["update", "insert"]), results, (p) =>
        this.#contexts.get(drawn[p]!.index),
      ),
    ]);
    return results;
  };

  /**
   * Reads the operations at `positions` in one BatchGet; records the reads' results, keeps
   * each context seen (in `seen` by position too), and returns the read-modify-writes whose
   * get succeeded, for their puts.
   */
  async #readBatch(
    client: DkvClient,
    drawn: readonly Drawn[],
    positions: readonly number[],
    results: OperationResult[],
    seen: Map<number, Uint8Array>,
  ): Promise<number[]> {
    if (positions.length === 0) return [];
    const keys = positions.map((position) => keyName(drawn[position]!.index));
    const outcomes = await settled(client.getMany(keys, this.#options.callOptions));
    const rmw: number[] = [];
    settleItems(drawn, positions, outcomes, results, (position, { kind, index }, reply) => {
      seen.set(position, this.#sawRead(index, reply));
      if (kind === "rmw") rmw.push(position); // done once its put is
      return kind !== "rmw";
    });
    return rmw;
  }

  /** Writes the operations at `positions` in one BatchPut, with the contexts given. */
  async #writeBatch(
    client: DkvClient,
    drawn: readonly Drawn[],
    positions: readonly number[],
    results: OperationResult[],
    contextOf: (position: number) => Uint8Array | undefined,
  ): Promise<void> {
    if (positions.length === 0) return;
    const { value, workerIndex, callOptions } = this.#options;
    const items = positions.map((position): PutItem => {
      const { kind, index } = drawn[position]!;
      if (kind === "insert") return { key: insertKeyName(workerIndex, index), value };
      const context = contextOf(position);
      return context === undefined
        ? { key: keyName(index), value }
        : { key: keyName(index), value, context };
    });
    const outcomes = await settled(client.putMany(items, callOptions));
    settleItems(drawn, positions, outcomes, results, (_, { kind, index }, reply) => {
      if (kind !== "insert") this.#contexts.set(index, reply.context);
      return true;
    });
  }

  get readStats(): ReadStats {
    return {
      reads: this.#reads,
      notFound: this.#notFound,
      siblingsMax: this.#siblingsMax,
      siblingsTotal: this.#siblingsTotal,
    };
  }

  async #run(client: DkvClient, kind: OperationKind, index: number): Promise<void> {
    const key = keyName(index);
    switch (kind) {
      case "read":
        await this.#read(client, key, index);
        return;
      case "update":
        await this.#write(client, key, index, this.#contexts.get(index));
        return;
      case "rmw": {
        const context = await this.#read(client, key, index);
        await this.#write(client, key, index, context);
        return;
      }
      case "insert":
        // A new key: no context to keep (the map stays bounded by the records).
        await client.put(
          insertKeyName(this.#options.workerIndex, index),
          this.#options.value,
          this.#options.callOptions,
        );
        return;
    }
  }

  async #read(client: DkvClient, key: string, index: number): Promise<Uint8Array> {
    return this.#sawRead(index, await client.get(key, this.#options.callOptions));
  }

  /** Counts a read's siblings and keeps its context for the key's next update; returns it. */
  #sawRead(index: number, reply: GetReply): Uint8Array {
    this.#reads += 1;
    const siblings = reply.siblings.length;
    if (siblings === 0) this.#notFound += 1;
    this.#siblingsMax = Math.max(this.#siblingsMax, siblings);
    this.#siblingsTotal += siblings;
    this.#contexts.set(index, reply.context);
    return reply.context;
  }

  async #write(
    client: DkvClient,
    key: string,
    index: number,
    context: Uint8Array | undefined,
  ): Promise<void> {
    const options =
      context === undefined ? this.#options.callOptions : { ...this.#options.callOptions, context };
    const reply = await client.put(key, this.#options.value, options);
    this.#contexts.set(index, reply.context);
  }
}

/** A batch's outcomes, or the error that refused it whole. */
type Settled<Reply> = ItemOutcome<Reply>[] | { readonly refused: unknown };

async function settled<Reply>(batch: Promise<ItemOutcome<Reply>[]>): Promise<Settled<Reply>> {
  try {
    return await batch;
  } catch (error) {
    return { refused: error };
  }
}

/** Item `item`'s outcome; every item of a batch refused whole failed with its error. */
function itemOf<Reply>(
  outcomes: Settled<Reply>,
  item: number,
): { readonly ok: true; readonly reply: Reply } | { readonly ok: false; readonly error: unknown } {
  if (!Array.isArray(outcomes)) return { ok: false, error: outcomes.refused };
  const outcome = outcomes[item];
  if (outcome === undefined) throw new Error(`a batch answered without item ${item}`);
  return outcome;
}

/**
 * Records the result of each operation at `positions` from its item's outcome: a failure at
 * once, a success once `succeeded`, told of it, says the operation is done (an rmw's get is
 * not).
 */
function settleItems<Reply>(
  drawn: readonly Drawn[],
  positions: readonly number[],
  outcomes: Settled<Reply>,
  results: OperationResult[],
  succeeded: (position: number, operation: Drawn, reply: Reply) => boolean,
): void {
  positions.forEach((position, item) => {
    const operation = drawn[position]!;
    const outcome = itemOf(outcomes, item);
    if (!outcome.ok) {
      results[position] = { kind: operation.kind, status: statusName(outcome.error) };
    } else if (succeeded(position, operation, outcome.reply)) {
      results[position] = { kind: operation.kind, status: "OK" };
    }
  });
}

/** The gRPC status name of an error (DEADLINE_EXCEEDED, ...), or CLIENT_ERROR. */
export function statusName(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "number") {
    const name = (grpc.status as unknown as Record<number, string | undefined>)[code];
    if (name !== undefined) return name;
  }
  return "CLIENT_ERROR";
}

/** The value every write of a run carries: seeded random bytes, so it does not compress. */
export function benchValue(valueBytes: number, seed: number): Uint8Array {
  const random = new SeededRandom(seed);
  const value = new Uint8Array(valueBytes);
  for (let offset = 0; offset < valueBytes; offset += 4) {
    const word = random.nextUint32();
    for (let byte = 0; byte < 4 && offset + byte < valueBytes; byte++) {
      value[offset + byte] = (word >>> (byte * 8)) & 0xff;
    }
  }
  return value;
}
