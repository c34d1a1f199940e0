// Turns a workload into calls on the dkv client (the same DkvClient for dkv and for the echo
// baseline): picks the operation and the Zipfian key, remembers the last causal context seen
// per key so that updates supersede what this process saw instead of piling up siblings.

import * as grpc from "@grpc/grpc-js";
import type { CallOptions, DkvClient } from "../../coordinator/client.js";
import type { OperationResult } from "./load-schedule.js";
import { SeededRandom } from "../../node/core/seeded-random.js";
import { ScrambledZipfianGenerator } from "./zipfian-generator.js";
import { chooseOperation, keyName, type OperationKind, type Workload } from "./workload.js";

/** Options of a WorkloadExecutor. */
export interface WorkloadExecutorOptions {
  readonly workload: Workload;
  readonly records: number;
  /** Written by every update (and by the preload). */
  readonly value: Uint8Array;
  readonly callOptions: CallOptions;
  readonly seed: number;
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
  readonly #client: DkvClient;
  readonly #options: WorkloadExecutorOptions;
  readonly #random: SeededRandom;
  readonly #keys: ScrambledZipfianGenerator;
  /** Bounded by the record count: one context per key this process has seen. */
  readonly #contexts = new Map<number, Uint8Array>();
  #reads = 0;
  #notFound = 0;
  #siblingsMax = 0;
  #siblingsTotal = 0;

  constructor(client: DkvClient, options: WorkloadExecutorOptions) {
    this.#client = client;
    this.#options = options;
    this.#random = new SeededRandom(options.seed);
    this.#keys = new ScrambledZipfianGenerator(options.records, this.#random);
  }

  /** One operation of the workload; never rejects (a failure is a result). */
  readonly operation = async (): Promise<OperationResult> => {
    const kind = chooseOperation(this.#options.workload, this.#random);
    const index = this.#keys.next();
    try {
      await this.#run(kind, index);
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

  async #run(kind: OperationKind, index: number): Promise<void> {
    const key = keyName(index);
    switch (kind) {
      case "read":
        await this.#read(key, index);
        return;
      case "update":
        await this.#write(key, index, this.#contexts.get(index));
        return;
      case "rmw": {
        const context = await this.#read(key, index);
        await this.#write(key, index, context);
        return;
      }
    }
  }

  async #read(key: string, index: number): Promise<Uint8Array> {
    const reply = await this.#client.get(key, this.#options.callOptions);
    this.#reads += 1;
    const siblings = reply.siblings.length;
    if (siblings === 0) this.#notFound += 1;
    this.#siblingsMax = Math.max(this.#siblingsMax, siblings);
    this.#siblingsTotal += siblings;
    this.#contexts.set(index, reply.context);
    return reply.context;
  }

  async #write(key: string, index: number, context: Uint8Array | undefined): Promise<void> {
    const options =
      context === undefined ? this.#options.callOptions : { ...this.#options.callOptions, context };
    const reply = await this.#client.put(key, this.#options.value, options);
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
