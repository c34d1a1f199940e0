// The nemesis clients: closed loops of read-modify-write against a live cluster, recording
// every operation. Set clients (Jepsen's Riak set test) merge the siblings they read by union,
// or keep only the newest with --lww, add one unique element and write back with the context;
// register clients write a unique value with the context of their read.

import { scriptSecurity } from "../lib/script-security.js";
import { DkvClient, type QuorumText } from "../../coordinator/client.js";
import { dotAddedBy } from "./core/dots.js";
import { SeededRandom } from "../../node/core/seeded-random.js";
import { formatSetValue, type WorkloadName } from "./core/history.js";
import { lastWriteWinsResolve, unionResolve } from "./core/set-resolve.js";
import {
  Recorder,
  decodeClientContext,
  errorText,
  observed,
  writeErrorOutcome,
} from "./recorder.js";

/** How the clients behave. */
export interface WorkloadOptions {
  readonly addresses: readonly string[];
  readonly clients: number;
  readonly setKeys: readonly string[];
  readonly registerKeys: readonly string[];
  /** Set clients keep only the newest sibling (the control that must lose writes). */
  readonly lww: boolean;
  readonly seed: number;
  readonly r: QuorumText;
  readonly w: QuorumText;
  readonly timeoutMs: number;
  /** Pause between two operations of one client. */
  readonly thinkMs: number;
}

/** Running clients; `stop()` resolves when every loop has finished its operation. */
export interface RunningWorkload {
  stop(): Promise<void>;
  /**
   * Points every client at these nodes from its next operation on, as an application follows
   * membership changes: clients reconnect between operations, never during one.
   */
  useAddresses(addresses: readonly string[]): void;
}

/** Starts the clients. Even-numbered clients run the set workload, odd ones the register. */
export function startWorkload(options: WorkloadOptions, recorder: Recorder): RunningWorkload {
  let stopped = false;
  let addresses = [...options.addresses];
  const loops: Promise<void>[] = [];
  for (let client = 0; client < options.clients; client++) {
    const workload: WorkloadName =
      options.registerKeys.length === 0 || (client % 2 === 0 && options.setKeys.length > 0)
        ? "set"
        : "register";
    const random = new SeededRandom(options.seed * 7919 + client);
    const keys = workload === "set" ? options.setKeys : options.registerKeys;
    loops.push(
      (async () => {
        let connected = addresses;
        let connection = homeConnection(connected, client);
        try {
          for (let seq = 1; !stopped; seq++) {
            if (connected !== addresses) {
              connection.close();
              connected = addresses;
              connection = homeConnection(connected, client);
            }
            const key = keys[random.int(keys.length)] as string;
            await readModifyWrite({ connection, client, seq, key, workload, options, recorder });
            if (options.thinkMs > 0) await delay(options.thinkMs);
          }
        } finally {
          connection.close();
        }
      })(),
    );
  }
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
    useAddresses(next) {
      if (next.length === 0) throw new Error("the workload needs at least one node address");
      addresses = [...next];
    },
  };
}

/** Each client starts at its own node and moves on only when that node is unreachable. */
function homeConnection(addresses: readonly string[], client: number): DkvClient {
  const home = client % addresses.length;
  return new DkvClient([...addresses.slice(home), ...addresses.slice(0, home)], {
    security: scriptSecurity(),
  });
}

/** One read followed (when the read succeeded) by one write with its context. */
async function readModifyWrite(step: {
  readonly connection: DkvClient;
  readonly client: number;
  readonly seq: number;
  readonly key: string;
  readonly workload: WorkloadName;
  readonly options: WorkloadOptions;
  readonly recorder: Recorder;
}): Promise<void> {
  const { connection, client, key, workload, options, recorder } = step;
  const readId = recorder.nextId();
  const readInvokeMs = recorder.now();
  const record = { id: readId, client, workload, key, invokeMs: readInvokeMs };
  let read;
  try {
    read = await connection.get(key, { r: options.r, timeoutMs: options.timeoutMs });
  } catch (error) {
    recorder.reads.push({
      ...record,
      completeMs: recorder.now(),
      outcome: "fail",
      siblings: [],
      context: undefined,
      error: errorText(error),
    });
    return;
  }
  const siblings = observed(read.siblings);
  const context = decodeClientContext(key, read.context);
  recorder.reads.push({
    ...record,
    completeMs: recorder.now(),
    outcome: "ok",
    siblings,
    context,
    error: undefined,
  });
  const tag = `${workload === "set" ? "s" : "r"}${client}.${step.seq}`;
  let element: number | undefined;
  let value = tag;
  if (workload === "set") {
    const elements = options.lww ? lastWriteWinsResolve(siblings) : unionResolve(siblings);
    element = recorder.nextElement();
    elements.add(element);
    value = formatSetValue(tag, elements);
  }
  const base = {
    id: recorder.nextId(),
    client,
    workload,
    key,
    value,
    element,
    context,
    coveredVtags: siblings.map((sibling) => sibling.vtag),
    invokeMs: recorder.now(),
  };
  try {
    const reply = await connection.put(key, value, {
      context: read.context,
      w: options.w,
      timeoutMs: options.timeoutMs,
    });
    const replyContext = decodeClientContext(key, reply.context);
    recorder.writes.push({
      ...base,
      completeMs: recorder.now(),
      outcome: "ok",
      dot: dotAddedBy(context, replyContext, reply.vtag),
      vtag: reply.vtag,
      error: undefined,
    });
  } catch (error) {
    recorder.writes.push({
      ...base,
      completeMs: recorder.now(),
      outcome: writeErrorOutcome(error),
      dot: undefined,
      vtag: undefined,
      error: errorText(error),
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
