// Goal: a node's cluster metadata file is always one whole version (issue 14: "persisted on
// every node, fsynced, crash-safe"): a write killed at any point leaves the old or the new one,
// never a torn mix, and a node restarted on it reads it back.
// Method: real files in a temp dir; a crash simulated by a torn tmp file, and a real one: a
// child process writing version after version, killed (-9) at a random moment, several times.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { initialMetadata, type ClusterMetadata } from "../../../../node/core/layout.js";
import { stageChange } from "../../../../node/core/layout-merge.js";
import { nodeId } from "../../../../node/core/node-id.js";
import { METADATA_FILE, MetadataStore } from "../../../../node/membership/metadata-store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-metadata-"));
  dirs.push(dir);
  return dir;
}

const initial = (): ClusterMetadata =>
  initialMetadata({
    members: ["n1", "n2", "n3"].map((node) => ({ node: nodeId(node), address: `${node}:7000` })),
    partitionCount: 16,
    targetN: 3,
  });

/** The metadata with one more staged join (revision + 1): a new version to write. */
const withJoin = (metadata: ClusterMetadata, index: number): ClusterMetadata =>
  stageChange(metadata, { kind: "join", node: nodeId(`j${index}`), address: `j${index}:7000` });

describe("MetadataStore on disk", () => {
  it("reads back after a restart what it wrote last", async () => {
    const dataDir = freshDir();
    const { store, created } = await MetadataStore.open({ dataDir, initial });
    expect(created).toBe(true);
    await store.update((current) => withJoin(current, 1));
    const reopened = await MetadataStore.open({ dataDir, initial });
    expect(reopened.created).toBe(false);
    expect(reopened.store.digest).toBe(store.digest);
    expect(reopened.store.current.staged.revision).toBe(1);
  });

  it("ignores a torn tmp file a crash left, and writes over it", async () => {
    const dataDir = freshDir();
    const { store } = await MetadataStore.open({ dataDir, initial });
    const file = path.join(dataDir, METADATA_FILE);
    writeFileSync(`${file}.tmp`, readFileSync(file, "utf8").slice(0, 40));
    const reopened = await MetadataStore.open({ dataDir, initial });
    expect(reopened.store.digest).toBe(store.digest);
    await reopened.store.update((current) => withJoin(current, 1));
    expect((await MetadataStore.open({ dataDir, initial })).store.current.staged.revision).toBe(1);
  });

  it("is one whole version after a writer is killed (-9) at any moment", async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const storeModule = path.resolve(here, "../../../../node/membership/metadata-store.ts");
    const layoutModule = path.resolve(here, "../../../../node/core/layout-merge.ts");
    const dataDir = freshDir();
    await MetadataStore.open({ dataDir, initial });
    // The child stages join after join (clearing them every 32), each a durable write, until
    // it is killed; every write bumps the staged revision.
    const script = `
      import { MetadataStore } from ${JSON.stringify(storeModule)};
      import { clearStaged, stageChange } from ${JSON.stringify(layoutModule)};
      const { store } = await MetadataStore.open({ dataDir: ${JSON.stringify(dataDir)}, initial: () => { throw new Error("no file"); } });
      process.stdout.write("open\\n");
      for (let index = store.current.staged.revision + 1; ; index++) {
        await store.update((current) =>
          current.staged.changes.length >= 32
            ? clearStaged(current)
            : stageChange(current, { kind: "join", node: "k" + index, address: "k" + index + ":7000" }),
        );
        process.stdout.write(store.current.staged.revision + "\\n");
      }`;
    let last = 0;
    for (let round = 0; round < 4; round++) {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      let printed = "";
      child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString("utf8")));
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      // The last revision the child saw written (its update resolved, so fsynced and renamed).
      const revisions = printed
        .split("\n")
        .filter((line) => /^\d+$/.test(line))
        .map(Number);
      const acknowledged = revisions.at(-1) ?? 0;
      // Whatever the moment, the file decodes, and holds at least what was acknowledged.
      const { store } = await MetadataStore.open({ dataDir, initial });
      const revision = store.current.staged.revision;
      expect(revision).toBeGreaterThanOrEqual(Math.max(last, acknowledged));
      expect(store.current.staged.changes.length).toBeLessThanOrEqual(32);
      last = revision;
    }
    expect(last).toBeGreaterThan(0);
    expect(existsSync(path.join(dataDir, METADATA_FILE))).toBe(true);
  });
});
