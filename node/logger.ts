// The node's structured logger: pino JSON lines, one per notable event, nothing per request.

import { pino } from "pino";

export type Logger = pino.Logger;

/** A logger writing JSON lines to stdout, tagged with the node id. */
export function createLogger(options: { readonly node: string; readonly level: string }): Logger {
  return pino({ level: options.level, base: { node: options.node } });
}

/** A logger that drops everything, for tests and embedded use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
