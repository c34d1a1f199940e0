// The simulated clients: each runs a loop of operations on a few keys through a random node —
// reads, read-modify-writes of a set (Jepsen's Riak set test), unique register writes with the
// context of the last read, a stale earlier one, or none, and deletes with the context of a
// read. Every outcome goes to the history, in the one checker's format.
// Clients see only what the public KV API answers (contexts, vtags, values) and learn the dots
// the checker needs from it, as the live nemesis does (scripts/nemesis/core/dots.ts).

import {
  EMPTY_CONTEXT,
  compareDots,
  type CausalContext,
  type Dot,
} from "../../node/core/causal-context.js";
import { vtag as vtagOf } from "../../node/core/dvv.js";
import { decodeKeyContext } from "../../node/core/key-context.js";
import type { NodeId } from "../../node/core/node-id.js";
import type { RequestOptions__Output } from "../../proto/generated/dkv/v1/RequestOptions.js";
import type { DeleteReply, GetReply, PutReply } from "../../coordinator/kv-service.js";
import { dotAddedBy, findDotsByVtag } from "../nemesis/core/dots.js";
import {
  formatSetValue,
  setElementsOf,
  type Outcome,
  type WorkloadName,
} from "../nemesis/core/history.js";
import type { SimCluster } from "./sim-cluster.js";
import type { KvWireReply } from "./sim-endpoint.js";
import type { SimHistory } from "./sim-history.js";
import type { SimProcess } from "./sim-process.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import type { SimTrace } from "./sim-trace.js";

/** The one bucket of the simulation. */
export const SIM_BUCKET = "sim";

/** How a client waits beyond its request deadline before it calls the outcome unknown. */
const CLIENT_GRACE_MS = 50;

/** The workload of a run. */
export interface WorkloadConfig {
  readonly clients: number;
  readonly opsTotal: number;
  readonly registerKeys: number;
  readonly setKeys: number;
  readonly thinkMs: readonly [number, number];
  readonly timeoutMs: number;
  /** The control: clients resolve siblings by last-modified time and drop the rest. */
  readonly lww: boolean;
}

/** A client's call that got no reply: the node was down, or the client stopped waiting. */
type NoReply = "down" | "indeterminate";

/** A sibling a client read, with the dot learned from its vtag. */
export interface SeenSibling {
  readonly value: string;
  readonly vtag: string;
  readonly dot: Dot;
  readonly lastModifiedMs: number;
}

/** A successful read as a client keeps it. */
export interface SeenRead {
  readonly siblings: readonly SeenSibling[];
  readonly context: Uint8Array;
}

/** Quorum options of one request, as counts. */
export interface Quorums {
  readonly r: number;
  readonly w: number;
  readonly dw: number;
  readonly pr: number;
  readonly pw: number;
  readonly strict: boolean;
}

/** Runs the clients and records what they see. */
export class SimWorkload {
  /** The register and set keys every client works on. */
  readonly #hotKeys: readonly string[];
  /** Short-lived keys (a session, a cart): written once, later deleted, never written again. */
  readonly #ephemeralKeys: string[] = [];
  /** Ephemeral keys written and not yet deleted. */
  readonly #liveEphemeral: string[] = [];
  readonly #setKeys: ReadonlySet<string>;
  readonly #cluster: SimCluster;
  readonly #scheduler: SimScheduler;
  readonly #random: SeededRandom;
  readonly #trace: SimTrace;
  readonly #history: SimHistory;
  readonly #config: WorkloadConfig;
  /** Dots already learned, by vtag: a vtag is a hash of its dot, so this spares the search. */
  readonly #dotOfVtag = new Map<string, Dot>();
  /** Per client and key, an earlier read's context: the "stale context" writes use it. */
  readonly #staleContexts = new Map<string, Uint8Array>();
  #opsLeft: number;

  constructor(options: {
    readonly cluster: SimCluster;
    readonly scheduler: SimScheduler;
    readonly random: SeededRandom;
    readonly trace: SimTrace;
    readonly history: SimHistory;
    readonly config: WorkloadConfig;
  }) {
    this.#cluster = options.cluster;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#trace = options.trace;
    this.#history = options.history;
    this.#config = options.config;
    this.#opsLeft = options.config.opsTotal;
    const registers = Array.from({ length: options.config.registerKeys }, (_, i) => `r${i}`);
    const sets = Array.from({ length: options.config.setKeys }, (_, i) => `s${i}`);
    this.#hotKeys = [...registers, ...sets];
    this.#setKeys = new Set(sets);
  }

  /** Runs every client until the operation budget is spent. */
  async run(): Promise<void> {
    const clients = Array.from({ length: this.#config.clients }, (_, client) =>
      this.#client(client),
    );
    await Promise.all(clients);
  }

  /** Every key the clients have touched or will: the hot ones and the ephemeral ones. */
  get keys(): readonly string[] {
    return [...this.#hotKeys, ...this.#ephemeralKeys];
  }

  /** True for a key of the set workload. */
  isSetKey(key: string): boolean {
    return this.#setKeys.has(key);
  }

  async #client(client: number): Promise<void> {
    const [thinkMin, thinkMax] = this.#config.thinkMs;
    while (this.#opsLeft > 0) {
      this.#opsLeft -= 1;
      await this.#scheduler.sleep(this.#random.range(thinkMin, thinkMax));
      // One operation in ten is on an ephemeral key: its tombstone lasts, so it gets reaped.
      if (this.#random.chance(0.1)) {
        await this.#ephemeral(client);
        continue;
      }
      const key = this.#random.pick(this.#hotKeys);
      if (this.#setKeys.has(key)) {
        await this.#addToSet(client, key);
        continue;
      }
      // Registers: 20% reads, 35% read-modify-writes, 20% blind writes, 15% writes with an
      // earlier read's (stale) context, which make concurrent siblings on purpose, and 10%
      // deletes of what a read saw (tombstones, which the reaper removes later).
      const roll = this.#random.next();
      const stale = this.#staleContexts.get(`${client}/${key}`) ?? new Uint8Array(0);
      if (roll < 0.2) await this.read(client, key, this.#randomNode(), this.#quorums());
      else if (roll < 0.55) await this.#readModifyWrite(client, key);
      else if (roll < 0.75) await this.#write(client, key, new Uint8Array(0), undefined);
      else if (roll < 0.9) await this.#write(client, key, stale, undefined);
      else await this.#readAndDelete(client, key);
    }
  }

  /** Jepsen's set test: read, union the siblings' sets (or LWW: keep the newest), add, write. */
  async #addToSet(client: number, key: string): Promise<void> {
    const read = await this.read(client, key, this.#randomNode(), this.#quorums());
    if (read === undefined) return;
    const kept = this.#config.lww ? newest(read.siblings) : read.siblings;
    const elements = new Set<number>();
    for (const sibling of kept) {
      for (const element of setElementsOf(sibling.value)) elements.add(element);
    }
    await this.#write(client, key, read.context, elements);
  }

  async #readModifyWrite(client: number, key: string): Promise<void> {
    const read = await this.read(client, key, this.#randomNode(), this.#quorums());
    if (read !== undefined) await this.#write(client, key, read.context, undefined);
  }

  /** Creates an ephemeral key with a blind write, or deletes one that lives. */
  async #ephemeral(client: number): Promise<void> {
    if (this.#liveEphemeral.length > 0 && this.#random.chance(0.5)) {
      const index = this.#random.int(this.#liveEphemeral.length);
      const [key] = this.#liveEphemeral.splice(index, 1) as [string];
      await this.#readAndDelete(client, key);
      return;
    }
    const key = `e${this.#ephemeralKeys.length}`;
    this.#ephemeralKeys.push(key);
    this.#liveEphemeral.push(key);
    await this.#write(client, key, new Uint8Array(0), undefined);
  }

  /** Deletes what a read saw (its context), when it saw anything. */
  async #readAndDelete(client: number, key: string): Promise<void> {
    const read = await this.read(client, key, this.#randomNode(), this.#quorums());
    if (read === undefined || read.siblings.length === 0) return;
    const id = this.#history.nextId();
    const quorums = this.#quorums();
    const invokeMs = this.#scheduler.nowMs;
    const contact = this.#randomNode();
    const deadlineMs = invokeMs + this.#config.timeoutMs;
    const request = {
      bucket: SIM_BUCKET,
      key: Buffer.from(key),
      context: Buffer.from(read.context),
      options: optionsOf(quorums),
    };
    const reply = await this.#call(contact, deadlineMs, (process) =>
      process.clientDelete(request, deadlineMs),
    );
    const { outcome, error } = outcomeOf(reply);
    if (error?.startsWith("internal") === true) this.#trace.bug(error);
    this.#history.writes.push({
      id,
      client,
      workload: "register",
      key,
      value: `d${id}`,
      element: undefined,
      context: this.#decodeContext(key, read.context),
      coveredVtags: read.siblings.map((sibling) => sibling.vtag),
      invokeMs,
      completeMs: this.#scheduler.nowMs,
      outcome,
      dot: undefined,
      vtag: undefined,
      error,
      durableRequired: quorums.dw >= 1,
      durableCopies: quorums.dw,
      deleted: true,
    });
    this.#trace.record(`c${client} delete ${key}@${contact} d${id} ${outcome} ${error ?? ""}`);
  }

  /**
   * A get through `contact`; recorded when it succeeds. `client` -1 is the convergence phase.
   * `timeoutMs` is the client's timeout, the workload's unless given.
   */
  async read(
    client: number,
    key: string,
    contact: NodeId,
    quorums: Quorums,
    timeoutMs = this.#config.timeoutMs,
  ): Promise<SeenRead | undefined> {
    const invokeMs = this.#scheduler.nowMs;
    const deadlineMs = invokeMs + timeoutMs;
    const request = { bucket: SIM_BUCKET, key: Buffer.from(key), options: optionsOf(quorums) };
    const reply = await this.#call(contact, deadlineMs, (process) =>
      process.clientGet(request, deadlineMs),
    );
    const outcome =
      typeof reply === "string"
        ? reply
        : reply.ok
          ? `ok ${reply.reply.siblings.length}`
          : reply.code;
    this.#trace.record(`c${client} get ${key}@${contact} r=${quorums.r} ${outcome}`);
    if (typeof reply === "string" || !reply.ok) {
      if (typeof reply !== "string" && reply.code === "internal") this.#trace.bug(reply.error);
      return undefined;
    }
    const seen = { siblings: this.#seenSiblings(key, reply.reply), context: reply.reply.context };
    this.#history.reads.push({
      id: this.#history.nextId(),
      client,
      workload: this.#workloadOf(key),
      key,
      invokeMs,
      completeMs: this.#scheduler.nowMs,
      outcome: "ok",
      siblings: seen.siblings,
      context: this.#decodeContext(key, reply.reply.context),
      error: undefined,
    });
    if (client >= 0 && (!this.#staleContexts.has(`${client}/${key}`) || this.#random.chance(0.3))) {
      this.#staleContexts.set(`${client}/${key}`, seen.context);
    }
    return seen;
  }

  /**
   * A read's live siblings with their dots: each vtag names one dot of the read's context. A
   * tombstone concurrent with them (flagged deleted) is no value; the read's context covers it.
   */
  #seenSiblings(key: string, reply: GetReply): SeenSibling[] {
    const live = reply.siblings.filter((sibling) => !sibling.deleted);
    const unknown = new Set<string>();
    for (const sibling of live) {
      if (!this.#dotOfVtag.has(sibling.vtag)) unknown.add(sibling.vtag);
    }
    if (unknown.size > 0) {
      const context = this.#decodeContext(key, reply.context);
      for (const [tag, dot] of findDotsByVtag(context, unknown)) this.#dotOfVtag.set(tag, dot);
    }
    const seen: SeenSibling[] = [];
    for (const sibling of live) {
      const dot = this.#dotOfVtag.get(sibling.vtag);
      const value = textOf(sibling.value);
      if (dot === undefined) {
        this.#trace.bug(`${key}: read ${value} whose vtag names no dot of the read's context`);
        continue;
      }
      seen.push({ value, vtag: sibling.vtag, dot, lastModifiedMs: sibling.last_modified_ms });
    }
    return seen;
  }

  /** A put of a unique value with `context`; `elements` (set keys) are written with its id. */
  async #write(
    client: number,
    key: string,
    context: Uint8Array,
    elements: Set<number> | undefined,
  ): Promise<void> {
    const id = this.#history.nextId();
    elements?.add(id);
    const value = elements === undefined ? `w${id}` : formatSetValue(`w${id}`, elements);
    const quorums = this.#quorums();
    const sent = this.#decodeContext(key, context);
    const invokeMs = this.#scheduler.nowMs;
    const contact = this.#randomNode();
    const deadlineMs = invokeMs + this.#config.timeoutMs;
    const request = {
      bucket: SIM_BUCKET,
      key: Buffer.from(key),
      value: Buffer.from(value),
      content_type: "text/plain",
      metadata: {},
      context: Buffer.from(context),
      options: optionsOf(quorums),
      return_body: false,
      if_none_match: false,
    };
    const reply = await this.#call(contact, deadlineMs, (process) =>
      process.clientPut(request, deadlineMs),
    );
    const { outcome, error } = outcomeOf(reply);
    if (error?.startsWith("internal") === true) this.#trace.bug(error);
    let dot: Dot | undefined;
    let vtag: string | undefined;
    if (typeof reply !== "string" && reply.ok) {
      // The reply's context is the sent one plus exactly the new dot, whose hash is the vtag.
      dot = dotAddedBy(sent, this.#decodeContext(key, reply.reply.context), reply.reply.vtag);
      vtag = dot === undefined ? undefined : vtagOf(dot);
      if (dot !== undefined) this.#dotOfVtag.set(reply.reply.vtag, dot);
    }
    this.#history.writes.push({
      id,
      client,
      workload: this.#workloadOf(key),
      key,
      value,
      element: elements === undefined ? undefined : id,
      context: sent,
      coveredVtags: [],
      invokeMs,
      completeMs: this.#scheduler.nowMs,
      outcome,
      dot,
      vtag,
      error,
      durableRequired: quorums.dw >= 1,
      durableCopies: quorums.dw,
    });
    const q = `w=${quorums.w},dw=${quorums.dw}`;
    this.#trace.record(`c${client} put ${key}@${contact} ${value} ${q} ${outcome} ${error ?? ""}`);
  }

  #workloadOf(key: string): WorkloadName {
    return this.#setKeys.has(key) ? "set" : "register";
  }

  /** Calls a node as an outside client: no reply from a dead node, a timeout of our own. */
  #call<T>(
    contact: NodeId,
    deadlineMs: number,
    work: (process: SimProcess) => Promise<T>,
  ): Promise<T | NoReply> {
    const process = this.#cluster.live(contact);
    if (process === undefined) return Promise.resolve("down");
    return new Promise((resolve) => {
      const waitMs = deadlineMs - this.#scheduler.nowMs + CLIENT_GRACE_MS;
      const cancel = this.#scheduler.after(waitMs, () => resolve("indeterminate"));
      void process.guard(work(process)).then((reply) => {
        cancel();
        resolve(reply);
      });
    });
  }

  #decodeContext(key: string, bytes: Uint8Array): CausalContext {
    if (bytes.length === 0) return EMPTY_CONTEXT;
    const decoded = decodeKeyContext(SIM_BUCKET, Buffer.from(key), bytes);
    if (!decoded.ok)
      throw new Error(`a context the store returned does not decode: ${decoded.reason}`);
    return decoded.context;
  }

  #randomNode(): NodeId {
    return this.#random.pick(this.#cluster.ids);
  }

  /** Quorum options drawn per request: mostly the defaults, sometimes one, all, pr/pw, strict. */
  #quorums(): Quorums {
    const random = this.#random;
    const level = (): number => (random.chance(0.2) ? 1 : random.chance(0.25) ? 3 : 2);
    const w = level();
    const dw = random.chance(0.15) ? 0 : random.chance(0.15) ? Math.min(2, w) : 1;
    return {
      r: level(),
      w,
      dw,
      pr: random.chance(0.1) ? 1 : 0,
      pw: random.chance(0.1) ? 1 : 0,
      strict: random.chance(0.1),
    };
  }
}

/** The request options of `quorums`, as the generated proto type carries them. */
export function optionsOf(quorums: Quorums): RequestOptions__Output {
  const count = (value: number): { value: "count"; count: number } => ({
    value: "count",
    count: value,
  });
  return {
    n: 0,
    r: count(quorums.r),
    w: count(quorums.w),
    dw: count(quorums.dw),
    pr: count(quorums.pr),
    pw: count(quorums.pw),
    strict_quorum: quorums.strict,
  };
}

/**
 * A write's outcome as its client can know it (Jepsen's): ok; fail when it certainly did not
 * happen (no node took the call, or it was refused before anything was stored); otherwise
 * indeterminate (a timeout, a quorum that failed after some replica stored it).
 */
function outcomeOf(reply: KvWireReply<PutReply | DeleteReply> | NoReply): {
  outcome: Outcome;
  error: string | undefined;
} {
  if (reply === "down") return { outcome: "fail", error: "node down" };
  if (reply === "indeterminate") return { outcome: "indeterminate", error: "no reply in time" };
  if (reply.ok) return { outcome: "ok", error: undefined };
  const error = `${reply.code}: ${reply.error}`;
  return { outcome: reply.notApplied ? "fail" : "indeterminate", error };
}

/** The LWW control's resolution: only the sibling with the latest last-modified time. */
function newest(siblings: readonly SeenSibling[]): SeenSibling[] {
  let best: SeenSibling | undefined;
  for (const sibling of siblings) {
    if (
      best === undefined ||
      sibling.lastModifiedMs > best.lastModifiedMs ||
      (sibling.lastModifiedMs === best.lastModifiedMs && compareDots(sibling.dot, best.dot) > 0)
    ) {
      best = sibling;
    }
  }
  return best === undefined ? [] : [best];
}

function textOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
