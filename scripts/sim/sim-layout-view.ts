// A simulated node's cluster metadata: the file it is kept in (on a simulated disk, where a write
// counts once its fsync completes and a crash before that keeps the previous file), and the view
// of it a node incarnation follows, as ClusterView follows production's MetadataStore: the rings
// of the current layout (and of the one data moves from), the members, and listeners told of
// every change of the layout.

import type { ClusterMetadata } from "../../node/core/layout.js";
import { decodeMetadata, encodeMetadata } from "../../node/core/layout-codec.js";
import { MetadataStore, type MetadataPersist } from "../../node/membership/metadata-store.js";
import type { SeededRandom } from "../../node/core/seeded-random.js";
import type { SimScheduler } from "./sim-scheduler.js";
import { MemoryPullStore } from "../../node/membership/pull-file-store.js";

/** `<data-dir>/cluster-metadata.json` of one simulated machine. */
export class SimMetadataFile {
  #durable: string | undefined;
  /**
   * `<data-dir>/transfer-cursors.json` beside it: the partition streams' cursors. Written whole
   * at once (production writes it with fsync only after the batches it covers are durable).
   */
  readonly pulls = new MemoryPullStore();

  /** What the file holds (what a restart reads), or undefined before the first write. */
  get durable(): string | undefined {
    return this.#durable;
  }

  /** Writes `metadata` at once: the first layout, or the one fetched by a joining node. */
  create(metadata: ClusterMetadata): void {
    this.#durable = Buffer.from(encodeMetadata(metadata)).toString("utf8");
  }

  /**
   * The persist port of one incarnation: writeFileDurably's temporary file, fsync and rename take
   * one fsync's latency; a process that died meanwhile never finishes, and the file keeps its
   * previous content.
   */
  persistFor(options: {
    readonly scheduler: SimScheduler;
    readonly random: SeededRandom;
    readonly fsyncMs: readonly [number, number];
    readonly alive: () => boolean;
  }): MetadataPersist {
    const [min, max] = options.fsyncMs;
    return (json) =>
      new Promise((resolve) => {
        options.scheduler.after(options.random.range(min, max), () => {
          if (!options.alive()) return;
          this.#durable = json;
          resolve();
        });
      });
  }

  /** The store a starting incarnation opens over this file. */
  open(persist: MetadataPersist): MetadataStore {
    const json = this.#durable;
    if (json === undefined) throw new Error("a simulated node starts with no cluster metadata");
    return MetadataStore.inMemory(decodeMetadata(Buffer.from(json, "utf8")), persist);
  }
}
