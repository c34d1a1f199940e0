// This node's copy of the cluster metadata (node/core/layout.ts): loaded from its file at
// start, changed only through `update` (stage, commit, gossip merges, transfer progress), which
// runs one change at a time, writes the new metadata durably and only then publishes it. So a
// node never acts on a layout it could forget in a crash, and a restarted node starts from the
// newest layout it ever acted on; gossip brings it up to date from there.

import { hash } from "node:crypto";
import path from "node:path";
import type { ClusterMetadata } from "../core/layout.js";
import { decodeMetadata, encodeMetadata } from "../core/layout-codec.js";
import { mergeMetadata } from "../core/layout-merge.js";
import { readFileIfExists, writeFileDurably } from "../durable-file.js";

/** The file in the data directory that holds the node's cluster metadata. */
export const METADATA_FILE = "cluster-metadata.json";

/** Called after every change that was written, with the metadata before and after. */
export type MetadataListener = (after: ClusterMetadata, before: ClusterMetadata) => void;

/** Writes an encoded metadata durably (production: a file; the simulation: its disk model). */
export type MetadataPersist = (json: string) => Promise<void>;

/** The metadata of one node; without `persist` it is kept in memory only (tests, benchmarks). */
export class MetadataStore {
  readonly #persist: MetadataPersist | undefined;
  #current: ClusterMetadata;
  #json: string;
  #digest: string;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #listeners = new Set<MetadataListener>();

  private constructor(persist: MetadataPersist | undefined, metadata: ClusterMetadata) {
    this.#persist = persist;
    this.#current = metadata;
    this.#json = Buffer.from(encodeMetadata(metadata)).toString("utf8");
    this.#digest = digestOf(this.#json);
  }

  /**
   * Opens the metadata of the node whose data lives in `dataDir` (undefined: in memory only).
   * A file that exists is the truth; `initial` is asked only when there is none, and what it
   * returns is written before the store is used. A file that cannot be read or decoded stops
   * the start: a node that forgot its layout would take writes for partitions it gave away.
   */
  static async open(options: {
    readonly dataDir: string | undefined;
    readonly initial: () => Promise<ClusterMetadata> | ClusterMetadata;
  }): Promise<{ store: MetadataStore; created: boolean }> {
    const file =
      options.dataDir === undefined ? undefined : path.join(options.dataDir, METADATA_FILE);
    const existing = file === undefined ? undefined : await readMetadataFile(file);
    const persist =
      file === undefined
        ? undefined
        : (json: string): Promise<void> => writeFileDurably(file, json);
    if (existing !== undefined) {
      return { store: new MetadataStore(persist, existing), created: false };
    }
    const metadata = await options.initial();
    const store = new MetadataStore(persist, metadata);
    await persist?.(store.#json);
    return { store, created: true };
  }

  /** Metadata kept in memory only (tests, benchmarks), or written through `persist`. */
  static inMemory(metadata: ClusterMetadata, persist?: MetadataPersist): MetadataStore {
    return new MetadataStore(persist, metadata);
  }

  /** The metadata as last written. */
  get current(): ClusterMetadata {
    return this.#current;
  }

  /** Its canonical encoding, as peers and the CLI receive it. */
  get json(): string {
    return this.#json;
  }

  /** SHA-256 (hex, first 32 digits) of the canonical encoding: equal digests, equal metadata. */
  get digest(): string {
    return this.#digest;
  }

  /**
   * Applies `change` to the metadata as it is when this change's turn comes (changes run one
   * at a time), writes the result durably, publishes it and resolves with it. A change that
   * throws changes nothing and rejects with its error. Returning an equal value writes nothing.
   */
  update(change: (current: ClusterMetadata) => ClusterMetadata): Promise<ClusterMetadata> {
    const run = this.#queue.then(async () => {
      const before = this.#current;
      const after = change(before);
      // The same object encodes to the same bytes: nothing to write (the transfer loop asks
      // every tick whether the change can retire).
      if (after === before) return before;
      const json = Buffer.from(encodeMetadata(after)).toString("utf8");
      if (json === this.#json) return before;
      if (this.#persist !== undefined) await this.#persist(json);
      this.#current = after;
      this.#json = json;
      this.#digest = digestOf(json);
      for (const listener of this.#listeners) listener(after, before);
      return after;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Merges metadata a peer sent (already decoded); resolves with the merged metadata. */
  merge(incoming: ClusterMetadata): Promise<ClusterMetadata> {
    return this.update((current) => mergeMetadata(current, incoming));
  }

  /** Calls `listener` after every published change; returns a function that unsubscribes. */
  onChange(listener: MetadataListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The digest of an encoded metadata text. */
export function digestOf(json: string): string {
  return hash("sha256", json, "hex").slice(0, 32);
}

/** The metadata in `file`; undefined when there is no file; throws when it is unreadable. */
async function readMetadataFile(file: string): Promise<ClusterMetadata | undefined> {
  const bytes = await readFileIfExists(file);
  if (bytes === undefined) return undefined;
  try {
    return decodeMetadata(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cluster metadata in ${file} is unreadable: ${reason}`, { cause: error });
  }
}
