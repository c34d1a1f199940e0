// The one table from outcomes to exit statuses of the dkv command; `dkv --help` and the README
// print the same table.

import { status } from "@grpc/grpc-js";

/** Exit statuses of the dkv command. */
export const EXIT = {
  ok: 0,
  /** An unexpected error (a bug, or a status not listed here). */
  failure: 1,
  /** Bad usage or a request the server called INVALID_ARGUMENT. */
  usage: 2,
  /** A quorum, primary or node could not be reached (UNAVAILABLE). */
  unavailable: 3,
  /** The deadline passed (DEADLINE_EXCEEDED); a write may still have landed. */
  timeout: 4,
  /** Over a limit, or the node is shedding load (RESOURCE_EXHAUSTED). */
  limit: 5,
  /**
   * A precondition failed (FAILED_PRECONDITION): if_none_match lost, a membership change
   * refused, a plan that changed since it was shown, a commit that lost to a concurrent one.
   */
  precondition: 6,
  /** No identity (UNAUTHENTICATED) or not allowed (PERMISSION_DENIED). */
  denied: 7,
} as const;

/** The exit status for a gRPC status code. */
export function exitCodeOf(code: status): number {
  switch (code) {
    case status.OK:
      return EXIT.ok;
    case status.INVALID_ARGUMENT:
      return EXIT.usage;
    case status.UNAVAILABLE:
      return EXIT.unavailable;
    case status.DEADLINE_EXCEEDED:
      return EXIT.timeout;
    case status.RESOURCE_EXHAUSTED:
      return EXIT.limit;
    case status.FAILED_PRECONDITION:
      return EXIT.precondition;
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      return EXIT.denied;
    default:
      return EXIT.failure;
  }
}

/** The table as printed in `dkv --help`. */
export const EXIT_CODES_HELP = [
  "Exit status:",
  '  0  success (a get of a missing key is a success: it prints "not found")',
  "  1  unexpected error",
  "  2  bad usage or invalid argument (INVALID_ARGUMENT)",
  "  3  quorum, primary or node unreachable (UNAVAILABLE)",
  "  4  timed out (DEADLINE_EXCEEDED); a write may still have landed",
  "  5  over a limit or node overloaded (RESOURCE_EXHAUSTED)",
  "  6  precondition failed (FAILED_PRECONDITION): if-none-match lost (the key exists), or a",
  "     membership change refused or lost to a concurrent commit",
  "  7  refused: no identity (UNAUTHENTICATED) or not allowed (PERMISSION_DENIED)",
].join("\n");
