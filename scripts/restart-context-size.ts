// Measures how a key's causal context grows with node restarts: a single node on the log engine
// (on disk) is restarted in-process (startNode, close) `--restarts` times, and after each start
// one read-modify-write of the same key is made through the client. Clean restarts keep the
// actor (node/actor-lease.ts), so the context stays at one entry; unclean ones take a new actor
// each time. An unclean restart is emulated by putting back, after the close, the lease file
// as the start left it ({actor, clean: false}): exactly what a kill -9 leaves on disk for the
// lease; the real kill -9 is covered by test/integration/actor-lease.test.ts.
// `npx tsx scripts/restart-context-size.ts --restarts 1000 --mode both`

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { startNode } from "../cli/start-node.js";
import { DkvClient } from "../coordinator/client.js";
import { createStorage } from "../node/storage/create-storage.js";
import { DEFAULT_LIMITS } from "../node/core/limits.js";
import { silentLogger } from "../node/logger.js";
import { nodeId } from "../node/core/node-id.js";
import { ACTOR_LEASE_FILE } from "../node/actor-lease.js";

/** The key's context after the last restart. */
export interface ContextSize {
  readonly restarts: number;
  readonly actors: number;
  readonly contextBytes: number;
}

/** Restarts a node `restarts` times, writing the key once after each start. */
export async function measureRestarts(options: {
  readonly restarts: number;
  readonly clean: boolean;
  readonly log?: (line: string) => void;
}): Promise<ContextSize> {
  const dir = mkdtempSync(path.join(tmpdir(), "dkv-restarts-"));
  const self = nodeId("n1");
  const key = "restarted";
  let last: ContextSize = { restarts: 0, actors: 0, contextBytes: 0 };
  try {
    for (let restart = 1; restart <= options.restarts; restart++) {
      const storage = await createStorage("log", dir, DEFAULT_LIMITS);
      const hintStorage = await createStorage("log", path.join(dir, "hints"), DEFAULT_LIMITS);
      const node = await startNode({
        self,
        listen: "127.0.0.1:0",
        members: [{ node: self, address: "127.0.0.1:0" }],
        partitionCount: 8,
        storage,
        hintStorage,
        dataDir: dir,
        logger: silentLogger(),
        antiEntropy: false,
      });
      const leaseAtStart = readFileSync(path.join(dir, ACTOR_LEASE_FILE), "utf8");
      const client = new DkvClient([node.address]);
      try {
        const read = await client.get(key, { n: 1 });
        const options = read.context.length > 0 ? { n: 1, context: read.context } : { n: 1 };
        await client.put(key, `value ${restart}`, options);
        const stored = await node.replica.get("default", Buffer.from(key));
        const after = await client.get(key, { n: 1 });
        last = {
          restarts: restart,
          actors: stored?.context.vv.size ?? 0,
          contextBytes: after.context.length,
        };
      } finally {
        client.close();
        await node.close();
      }
      if (!options.clean) writeFileSync(path.join(dir, ACTOR_LEASE_FILE), leaseAtStart);
      if (restart % 100 === 0 || restart === options.restarts) {
        options.log?.(
          `${options.clean ? "clean" : "unclean"} restarts ${restart}: ${last.actors} actor(s) in the context, ${last.contextBytes} context bytes`,
        );
      }
    }
    return last;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .option("restarts", { type: "number", default: 1000 })
    .option("mode", { choices: ["clean", "unclean", "both"] as const, default: "both" as const })
    .strict()
    .parse();
  const modes = args.mode === "both" ? [true, false] : [args.mode === "clean"];
  for (const clean of modes) {
    const startedMs = performance.now();
    const size = await measureRestarts({ restarts: args.restarts, clean, log: console.log });
    const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
    console.log(
      `${clean ? "clean" : "unclean"}: after ${size.restarts} restarts the key's context holds ${size.actors} actor(s), ${size.contextBytes} bytes (${seconds} s)`,
    );
  }
}

await main();
