// Chooses a storage engine by name for `dkv serve --storage`.

import path from "node:path";
import type { Storage } from "./storage.js";
import { MemoryStorage } from "./memory-storage.js";
import { LogStorage } from "./log-storage.js";
import { LmdbStorage } from "./lmdb-storage.js";
import type { Limits } from "../core/limits.js";

/** Engine names accepted by `dkv serve --storage`; the first is the default. */
export const STORAGE_ENGINES = ["log", "lmdb", "memory"] as const;
export type StorageEngineName = (typeof STORAGE_ENGINES)[number];

/** A new, unopened engine of the named kind keeping its files under dataDir. */
export function createStorage(engine: StorageEngineName, dataDir: string, limits: Limits): Storage {
  // Replica merges may legitimately grow an object past the client-facing limit (siblings
  // written through different coordinators); the engine refuses only what gRPC could not carry.
  const objectBytesMax = limits.grpcMessageBytesMax;
  switch (engine) {
    case "log":
      return new LogStorage({
        dir: path.join(dataDir, "log"),
        keyBytesMax: limits.keyBytesMax,
        objectBytesMax,
      });
    case "lmdb":
      return new LmdbStorage({
        dir: path.join(dataDir, "lmdb"),
        keyBytesMax: limits.keyBytesMax,
        objectBytesMax,
      });
    case "memory":
      return new MemoryStorage();
  }
}
