// Sending a write to one slot of its preference list: the slot's node first, then what
// core/spare-choice.ts decides after a refusal — the next spare in a declining fallback's place,
// or a hinted copy for the slot's primary handed to a spare in the background. The shell; the
// decision is pure.

import type { NodeId } from "../node/core/node-id.js";
import type { DvvSet } from "../node/core/dvv.js";
import { hintedCopyWindowMs, type Limits } from "../node/core/limits.js";
import type { Logger } from "../node/logger.js";
import { wallDeadline, type Clock } from "../node/clock.js";
import { spareChoice } from "./core/spare-choice.js";
import type { ReplicaTransport, TransportWriteReply } from "./replica-transport.js";
import type { WriteCopies } from "./write-copies.js";
import type { PutCommand } from "./coordinator-commands.js";

/** What a slot's sending needs of its coordinator. */
export interface WriteSlotDeps {
  readonly transport: ReplicaTransport;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly logger: Logger;
  /** Hinted handoff is on for this node: a sloppy write may use spares. */
  readonly sloppyAllowed: boolean;
}

/** The write as every slot sends it. */
export interface SlotPayload {
  readonly object: DvvSet;
  readonly durable: boolean;
  readonly copies: WriteCopies;
  /** On the monotonic clock. */
  readonly deadlineMs: number;
}

type Send = (
  target: NodeId,
  standIn: NodeId | undefined,
  deadlineMs?: number,
) => Promise<TransportWriteReply>;

/**
 * Sends the object to one slot (`node`, standing in for `hintFor` when it is a fallback); the
 * slot's reply is the first acknowledgement or the last refusal (DESIGN §5). `spares` is shared
 * by the write's slots: a spare a slot takes is removed from it.
 */
export async function sendToSlot(
  deps: WriteSlotDeps,
  command: PutCommand,
  node: NodeId,
  hintFor: NodeId | undefined,
  spares: NodeId[],
  payload: SlotPayload,
): Promise<TransportWriteReply> {
  const send: Send = (target, standIn, deadlineMs = payload.deadlineMs) =>
    deps.transport.put(target, command.bucket, command.key, payload.object, {
      durable: payload.durable,
      reason: "REPLICA_PUT_REASON_WRITE",
      deadlineMs: wallDeadline(deps.clock, deadlineMs),
      hintFor: standIn ?? "",
    });
  let target = node;
  for (;;) {
    const reply = await send(target, hintFor);
    if (reply.ok) {
      payload.copies.stored({ node: target, hintFor });
      return reply;
    }
    const failure =
      "overLimit" in reply ? "over-limit" : "declined" in reply ? "declined" : "failed";
    const slot = { primary: hintFor === undefined, sloppy: command.sloppy && deps.sloppyAllowed };
    const choice = spareChoice(failure, slot, spares);
    if (choice.kind === "answer") return reply;
    spares.shift();
    const spare = choice.spare;
    if (choice.kind === "try-spare") {
      deps.logger.info(
        { declined: target, next: spare, hintFor },
        "fallback declined; trying the next",
      );
      target = spare;
      continue;
    }
    handOff(
      deps,
      send,
      spare,
      hintFor ?? node,
      spares,
      payload,
      payload.deadlineMs + hintedCopyWindowMs(deps.limits),
    );
    return reply;
  }
}

/**
 * Hands a hinted copy for `primary` to `spare` in the background, and to the next spare while
 * one refuses or fails: the write was acknowledged without the primary's copy, and a hint is
 * what brings it there. The slot may have failed only at the request's deadline (a paused
 * node), so the copies get a window of their own after it, up to `untilMs` (monotonic), which
 * they share: no spare is tried after it, or a chain of spares would outlive any bound.
 */
function handOff(
  deps: WriteSlotDeps,
  send: Send,
  spare: NodeId,
  primary: NodeId,
  spares: NodeId[],
  payload: SlotPayload,
  untilMs: number,
): void {
  // Half the window at most, so that a spare that hangs (paused, cut off) leaves time for the next.
  const attemptMs = Math.min(
    untilMs,
    deps.clock.monotonicMs() + hintedCopyWindowMs(deps.limits) / 2,
  );
  void send(spare, primary, attemptMs).then((reply) => {
    if (reply.ok) {
      payload.copies.stored({ node: spare, hintFor: primary });
      return;
    }
    // Over its limit the object is refused by every node alike: no spare would take it.
    const late = deps.clock.monotonicMs() >= untilMs;
    const next = "overLimit" in reply || late ? undefined : spares.shift();
    deps.logger.info({ spare, hintFor: primary, next, late }, "hinted copy not stored");
    if (next !== undefined) handOff(deps, send, next, primary, spares, payload, untilMs);
  });
}
