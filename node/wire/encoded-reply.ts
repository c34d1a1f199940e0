// A reply the admission interceptor has already encoded to measure it, and the serializer
// wrapper that passes its bytes on, so a measured reply is still encoded only once.

import type * as grpc from "@grpc/grpc-js";

/** A reply already encoded; a wrapped serializer returns its bytes as they are. */
export class EncodedReply {
  constructor(readonly bytes: Buffer) {}
}

const ENCODED_REPLY_AWARE: unique symbol = Symbol("dkv.encodedReplyAware");

type AwareSerialize<T> = grpc.serialize<T> & { [ENCODED_REPLY_AWARE]?: true };

/** Wraps a method's response serializer to pass an EncodedReply's bytes through. */
export function encodedReplyAware<T>(serialize: grpc.serialize<T>): grpc.serialize<T> {
  const aware: AwareSerialize<T> = (value: T) =>
    value instanceof EncodedReply ? value.bytes : serialize(value);
  aware[ENCODED_REPLY_AWARE] = true;
  return aware;
}

/** True when `serialize` came from encodedReplyAware. */
export function isEncodedReplyAware(serialize: grpc.serialize<never>): boolean {
  return (serialize as AwareSerialize<never>)[ENCODED_REPLY_AWARE] === true;
}
