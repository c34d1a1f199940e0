// The largest request message each gRPC service of a node accepts, by method path. Pure.

import type { Limits } from "../core/limits.js";

/**
 * The limit for a method path ("/dkv.v1.KV/Put"): the public KV service takes a value at the
 * limit and the rest of a request; Replica, Handoff and AntiEntropy carry whole objects (an
 * anti-entropy store or fetch holds at least one object, a reap batch up to 256 keys with their
 * tombstones), so they get the internal bound; Admin, health and reflection take small requests
 * (an Admin.LocalGet names one key). Unknown services get the small bound too.
 */
export function messageBytesMaxOf(path: string, limits: Limits): number {
  const service = serviceOf(path);
  if (service === "dkv.v1.KV") return limits.kvMessageBytesMax;
  if (INTERNAL_SERVICES.has(service)) return limits.grpcMessageBytesMax;
  return limits.controlMessageBytesMax;
}

/** The service part of a method path: "/dkv.v1.KV/Put" → "dkv.v1.KV". */
export function serviceOf(path: string): string {
  const end = path.lastIndexOf("/");
  return end <= 1 ? path : path.slice(1, end);
}

/** The public service: its calls count for fair shedding. */
export function isPublicService(path: string): boolean {
  return serviceOf(path) === "dkv.v1.KV";
}

const INTERNAL_SERVICES: ReadonlySet<string> = new Set([
  "dkv.v1.Replica",
  "dkv.v1.Handoff",
  "dkv.v1.AntiEntropy",
]);
