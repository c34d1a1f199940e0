// grpc-js writes a status's details with encodeURI, which throws on a lone UTF-16 surrogate; the
// throw escapes every handler and ends the node process. Details often quote what a client sent
// (a bucket, a user name, JSON), and a string decoded from protobuf can hold a lone surrogate,
// so every status is made well-formed (U+FFFD for a lone surrogate) before it is written.
// Found by the protobuf fuzzer (issue 15).

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const ANY_SURROGATE = /[\ud800-\udfff]/;

/**
 * `text` with every lone surrogate replaced by U+FFFD (`text` itself when it has none). The
 * admission interceptor applies it to every status a node sends.
 */
export function wellFormed(text: string): string {
  return ANY_SURROGATE.test(text) ? text.replace(LONE_SURROGATE, "\ufffd") : text;
}
