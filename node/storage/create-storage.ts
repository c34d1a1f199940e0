// Chooses a storage engine by name for `dkv serve --storage`. Engines load on demand, so a node
// on the log engine never loads lmdb's native module.

import path from "node:path";
import type { Storage } from "./storage.js";
import type { StorageEngineName } from "./storage-engines.js";
import type { Limits } from "../core/limits.js";

/**
 * A new, unopened engine of the named kind keeping its files under dataDir. `objectCacheBytesMax`
 * sizes the log engine's object cache (0: none, for a store read about once per write).
 */
export async function createStorage(
  engine: StorageEngineName,
  dataDir: string,
  limits: Limits,
  objectCacheBytesMax: number = limits.objectCacheBytesMax,
): Promise<Storage> {
  // Replica merges may legitimately grow an object past the client-facing limit (siblings
  // written through different coordinators); the engine refuses only what gRPC could not carry.
  const objectBytesMax = limits.grpcMessageBytesMax;
  const keyBytesMax = limits.keyBytesMax;
  switch (engine) {
    case "log": {
      const { LogStorage } = await import("./log-storage.js");
      return new LogStorage({
        dir: path.join(dataDir, "log"),
        keyBytesMax,
        objectBytesMax,
        objectCacheBytesMax,
      });
    }
    case "lmdb": {
      const { LmdbStorage } = await import("./lmdb-storage.js");
      return new LmdbStorage({ dir: path.join(dataDir, "lmdb"), keyBytesMax, objectBytesMax });
    }
    case "memory": {
      const { MemoryStorage } = await import("./memory-storage.js");
      return new MemoryStorage();
    }
  }
}
