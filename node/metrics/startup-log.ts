// The line a node writes when its storage has opened: keys found and, for the log engine, what
// recovery did; corruption found at start is an error line of its own (DESIGN §6: reported,
// never silently skipped).

import type { Logger } from "../logger.js";
import type { StorageStats } from "../storage/storage.js";

const RECOVERY_DETAILS = [
  "recoverySegmentsScanned",
  "recoveryHintsLoaded",
  "recoveryTornBytesTruncated",
  "recoveryMs",
] as const;

/** Logs what an opened engine holds; `store` names it ("data", "hints"). */
export function logStorageOpened(logger: Logger, store: string, stats: StorageStats): void {
  const details = (stats as { details?: Readonly<Record<string, number>> }).details ?? {};
  const recovery: Record<string, number> = {};
  for (const name of RECOVERY_DETAILS) {
    const value = details[name];
    if (value !== undefined) recovery[name] = value;
  }
  logger.info({ store, engine: stats.engine, keys: stats.keys, ...recovery }, "storage opened");
  if (stats.corruptRecords > 0) {
    logger.error(
      { store, corruptRecords: stats.corruptRecords },
      "storage corruption found at start; the keys are repaired from replicas",
    );
  }
}
