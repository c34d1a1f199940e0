// What a coordinated read holds against its client call's admission budget
// (node/wire/call-budget.ts): the copies of the object it keeps while it waits for its quorum.

import type { DvvSet } from "../node/core/dvv.js";
import { objectSize } from "../node/core/object-limit.js";
import type { GetCommand } from "./coordinator-commands.js";
import type { ReadReply } from "./core/get-quorum.js";
import type { OwnCopy } from "./replica-transport.js";

/**
 * Holds a replica's copy against the read's budget, less `heldAlready` (its stored size, held
 * before the read), unless it is the coordinator's own copy (a "same" answer to a digest read),
 * which is held already. The refusal's message, if refused.
 */
export function holdCopy(
  command: GetCommand,
  reply: ReadReply<DvvSet>,
  own: OwnCopy | undefined,
  heldAlready = 0,
): string | undefined {
  if (!reply.ok || reply.object === undefined) return undefined;
  if (reply.object === own?.object) return undefined;
  return holdBytes(command, objectSize(reply.object).bytes - heldAlready);
}

/** Holds bytes against the read's budget, if it has one; the refusal's message, if refused. */
export function holdBytes(command: GetCommand, bytes: number): string | undefined {
  if (command.holdBytes === undefined || bytes <= 0) return undefined;
  const verdict = command.holdBytes(bytes);
  return verdict.ok ? undefined : verdict.message;
}
