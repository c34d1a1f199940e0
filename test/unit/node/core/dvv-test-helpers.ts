// Small builders of DVV versions and objects for tests.

import { EMPTY_DVV_SET, update, type DvvSet, type Version } from "../../../../node/core/dvv.js";

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** A plain live version holding `text` (no content type or metadata, modified at 1 ms). */
export function textVersion(text: string): Version {
  return { value: utf8(text), contentType: "", metadata: {}, lastModifiedMs: 1, deleted: false };
}

/** `base` after a write of `text` by `actor` with the context of `base` (supersedes it). */
export function written(actor: string, text: string, base: DvvSet = EMPTY_DVV_SET): DvvSet {
  return update(base, base.context, actor, textVersion(text)).object;
}
