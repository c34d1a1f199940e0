// Turns a workload into calls on dkv clients (the same DkvClient for dkv and for the echo
// baseline; one per node, taken in turn, when requests are spread): picks the operation and the
// Zipfian key, remembers the last causal context seen per key so that updates supersede what
// this process saw instead of piling up siblings.

import * as grpc from "@grpc/grpc-js";
import type { CallOptions, DkvClient } from "../../coordinator/client.js";
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
    const reply = await client.get(key, this.#options.callOptions);
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
