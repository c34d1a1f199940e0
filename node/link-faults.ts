// Node-level link faults for fault injection without root (Admin.SetLinkFaults): delay and loss
// of this node's outgoing messages to chosen peers, applied by a gRPC client interceptor on the
// peers' clients. A delayed message keeps its place in its call (streams stay ordered). A lost
// message is sent again after TCP's initial retransmission timeout, as TCP would: loss shows up
// as latency and head-of-line blocking, and a request with a short deadline runs into it. (A
// message never sent at all would leave gRPC waiting for its write to finish, forever.)

import * as grpc from "@grpc/grpc-js";
import { KvError } from "./core/errors.js";
import type { Clock } from "./clock.js";
import type { NodeId } from "./core/node-id.js";

/** The fault on the link to one peer. */
export interface LinkFault {
  readonly peer: NodeId;
  readonly delayMs: number;
  readonly jitterMs: number;
  /** Share of messages dropped, 0..1. */
  readonly loss: number;
}

/** Longest delay or jitter accepted, so a typo cannot freeze a node's traffic for hours. */
export const LINK_DELAY_MS_MAX = 60_000;

/** How late a lost message arrives: TCP's initial retransmission timeout (RFC 6298, 1 s). */
export const LOSS_RETRANSMIT_MS = 1000;

/** The current link faults of this node, by peer. */
export class LinkFaults {
  #byPeer = new Map<NodeId, LinkFault>();
  readonly #clock: Clock;
  readonly #random: () => number;

  /** @param clock times the held messages (monotonic time and timers) */
  constructor(clock: Clock, random: () => number = Math.random) {
    this.#clock = clock;
    this.#random = random;
  }

  /** Replaces every fault; throws a KvError naming the bad field before changing anything. */
  set(faults: readonly LinkFault[], isPeer: (node: string) => boolean): void {
    const next = new Map<NodeId, LinkFault>();
    for (const fault of faults) {
      if (!isPeer(fault.peer)) {
        throw new KvError("invalid-argument", `link fault: ${fault.peer} is not a peer`);
      }
      for (const field of ["delayMs", "jitterMs"] as const) {
        const value = fault[field];
        if (!(Number.isInteger(value) && value >= 0 && value <= LINK_DELAY_MS_MAX)) {
          throw new KvError(
            "invalid-argument",
            `link fault ${fault.peer}: ${field} must be an integer from 0 to ${LINK_DELAY_MS_MAX}, got ${value}`,
          );
        }
      }
      if (!(Number.isFinite(fault.loss) && fault.loss >= 0 && fault.loss <= 1)) {
        throw new KvError(
          "invalid-argument",
          `link fault ${fault.peer}: loss must be from 0 to 1, got ${fault.loss}`,
        );
      }
      if (fault.delayMs > 0 || fault.jitterMs > 0 || fault.loss > 0) next.set(fault.peer, fault);
    }
    this.#byPeer = next;
  }

  /** Every fault in force, by peer name. */
  list(): LinkFault[] {
    return [...this.#byPeer.values()].sort((a, b) => (a.peer < b.peer ? -1 : 1));
  }

  /** How long the next message to `peer` waits (a lost one is retransmitted); 0: send now. */
  delayOf(peer: NodeId): number {
    const fault = this.#byPeer.get(peer);
    if (fault === undefined) return 0;
    const lost = fault.loss > 0 && this.#random() < fault.loss;
    return fault.delayMs + this.#random() * fault.jitterMs + (lost ? LOSS_RETRANSMIT_MS : 0);
  }

  /** The interceptor for the clients of `peer`; faults set later apply to calls in flight. */
  interceptor(peer: NodeId): grpc.Interceptor {
    return (options, nextCall) => {
      // Delays overlap like network latency, but the messages and the half-close of one call
      // leave in order, each no earlier than the one before it (a retransmitted message holds
      // back those behind it, as on a TCP connection): a FIFO drained by one timer.
      const clock = this.#clock;
      const queue: { readonly dueMs: number; readonly send: () => void }[] = [];
      let timerSet = false;
      const drain = (): void => {
        timerSet = false;
        while (queue.length > 0 && queue[0]!.dueMs <= clock.monotonicMs()) queue.shift()!.send();
        if (queue.length > 0) schedule();
      };
      const schedule = (): void => {
        timerSet = true;
        clock.setTimer(queue[0]!.dueMs - clock.monotonicMs(), drain);
      };
      const later = (send: () => void, delayMs: number): void => {
        const last = queue[queue.length - 1];
        queue.push({ dueMs: Math.max(clock.monotonicMs() + delayMs, last?.dueMs ?? 0), send });
        if (!timerSet) schedule();
      };
      const pending = (): number => queue.length;
      return new grpc.InterceptingCall(nextCall(options), {
        sendMessage: (message, next) => {
          const delayMs = this.delayOf(peer);
          if (delayMs === 0 && pending() === 0) return next(message);
          later(() => next(message), delayMs);
        },
        halfClose: (next) => {
          if (pending() === 0) return next();
          later(next, 0);
        },
      });
    };
  }
}
