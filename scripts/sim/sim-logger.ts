// The Logger handed to the production code in a simulation: pino without timestamps (no wall
// clock), writing nowhere but into the trace. An error logged by the code is a bug of the run,
// except the known late-reply error listed in KNOWN_ERRORS, which is only counted.

import { pino } from "pino";
import type { Logger } from "../../node/logger.js";
import type { SimTrace } from "./sim-trace.js";

/**
 * Errors the code logs today in situations that are not bugs of the store, by a pattern of the
 * logged error's message. A reply that arrives after the coordinator's deadline timer fired is
 * fed to the quorum machine, whose ledger throws "after onTimeout"; Coordinator.#drive then logs
 * "replica call failed unexpectedly". Real gRPC deadlines race the same timer.
 */
const KNOWN_ERRORS: readonly { readonly kind: string; readonly pattern: RegExp }[] = [
  { kind: "late reply after the coordinator's deadline", pattern: /after onTimeout/ },
];

/** A logger whose warnings are dropped and whose errors go to the trace. */
export function simLogger(trace: SimTrace): Logger {
  const destination = {
    write(line: string): void {
      const entry = JSON.parse(line) as {
        level?: number;
        msg?: string;
        err?: { message?: string };
      };
      if ((entry.level ?? 0) < 50) return;
      const detail = `${entry.msg ?? ""}: ${entry.err?.message ?? ""}`;
      const known = KNOWN_ERRORS.find((error) => error.pattern.test(detail));
      if (known !== undefined) trace.note(known.kind);
      else trace.bug(`logged error: ${detail}`);
    },
  };
  return pino({ level: "error", timestamp: false, base: null }, destination);
}
