// How a set-workload client resolves the siblings it read before adding its element: by union
// (the sibling-aware way, Jepsen's Riak set test with allow_mult) or by keeping only the newest
// sibling (last-write-wins, the control that must lose writes). Pure.

import { setElementsOf, type ObservedSibling } from "./history.js";

/** The elements of every sibling together: nothing any concurrent writer added is dropped. */
export function unionResolve(siblings: readonly ObservedSibling[]): Set<number> {
  const elements = new Set<number>();
  for (const sibling of siblings) {
    for (const element of setElementsOf(sibling.value)) elements.add(element);
  }
  return elements;
}

/**
 * The elements of the newest sibling only (largest last-modified time, ties broken by vtag so
 * every client picks the same one): what a last-write-wins store would keep.
 */
export function lastWriteWinsResolve(siblings: readonly ObservedSibling[]): Set<number> {
  let newest: ObservedSibling | undefined;
  for (const sibling of siblings) {
    if (
      newest === undefined ||
      sibling.lastModifiedMs > newest.lastModifiedMs ||
      (sibling.lastModifiedMs === newest.lastModifiedMs && sibling.vtag > newest.vtag)
    ) {
      newest = sibling;
    }
  }
  return new Set(newest === undefined ? [] : setElementsOf(newest.value));
}
