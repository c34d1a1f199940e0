// How the call guard refuses one item of a KV.Session and lets the others through: it replaces
// the refused item by one that carries no operation (so nothing can run it, default deny) and
// the refusal under a symbol the wire cannot set; the session answers that item with the
// refusal's status. Pure.

/** Marks an item the guard refused; protobuf decoding never makes a symbol-keyed field. */
export const ITEM_REFUSAL: unique symbol = Symbol("dkv.session-item-refusal");

/** Why the guard refused an item: a gRPC status code and the reason given to the caller. */
export interface ItemRefusal {
  readonly code: number;
  readonly reason: string;
}

/** A Session item as the guard reads it. */
interface GuardedItem {
  readonly id?: unknown;
  readonly timeout_ms?: unknown;
  readonly op?: unknown;
}

/** An item in place of `item`: its id and timeout kept, its operation removed, the refusal set. */
export function refusedItem(
  item: GuardedItem,
  refusal: ItemRefusal,
): { id: unknown; timeout_ms: unknown; [ITEM_REFUSAL]: ItemRefusal } {
  return { id: item.id, timeout_ms: item.timeout_ms, [ITEM_REFUSAL]: refusal };
}

/** The guard's refusal of `item`, or undefined when it was let through (or never checked). */
export function itemRefusalOf(item: object): ItemRefusal | undefined {
  return (item as { [ITEM_REFUSAL]?: ItemRefusal })[ITEM_REFUSAL];
}

/**
 * The message with every item `check` refuses replaced (see refusedItem), and the refusals, in
 * order. `check` gets the item's operation ("get", "put", "delete" or undefined) and bucket
 * field. A message that is not a Session request passes unchanged; so does one with nothing
 * refused (the same object).
 */
export function checkSessionItems(
  message: unknown,
  check: (op: unknown, item: Record<string, unknown>) => ItemRefusal | undefined,
): { message: unknown; refusals: ItemRefusal[] } {
  const items = (message as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return { message, refusals: [] };
  const refusals: ItemRefusal[] = [];
  let checked: unknown[] | undefined;
  items.forEach((item: unknown, index) => {
    if (typeof item !== "object" || item === null) return;
    const op = (item as GuardedItem).op;
    const request = typeof op === "string" ? (item as Record<string, unknown>)[op] : undefined;
    const fields = typeof request === "object" && request !== null ? request : {};
    const refusal = check(op, fields as Record<string, unknown>);
    if (refusal === undefined) return;
    refusals.push(refusal);
    checked ??= [...items];
    checked[index] = refusedItem(item as GuardedItem, refusal);
  });
  if (checked === undefined) return { message, refusals };
  return { message: { ...(message as object), items: checked }, refusals };
}
