// The names of the storage engines, apart from the engines themselves so that commands can list
// them without loading native code.

/** Engine names accepted by `dkv serve --storage`; the first is the default. */
export const STORAGE_ENGINES = ["log", "lmdb", "memory"] as const;
export type StorageEngineName = (typeof STORAGE_ENGINES)[number];
