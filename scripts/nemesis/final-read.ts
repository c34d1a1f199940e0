// After the heal: read every key at r=all and from every node alone (Admin.LocalGet) until all
// replicas agree or the deadline passes, and time how long that took. The r=all reads also
// fire read repair, as any client read would; hinted handoff and anti-entropy do the rest.

import { scriptSecurity } from "../lib/script-security.js";
import { DkvClient } from "../../coordinator/client.js";
import { claimRing, type Ring } from "../../node/core/ring.js";
import { nodeId } from "../../node/core/node-id.js";
import { partitionOfKey } from "../../node/core/key-hash.js";
import { EMPTY_CONTEXT } from "../../node/core/causal-context.js";
import { preferenceList } from "../../coordinator/core/preference-list.js";
import { say } from "../lib/fault-cluster.js";
import { keyConverged } from "./core/convergence.js";
import type { FinalKey, LocalCopy, WorkloadName } from "./core/history.js";
import { NEMESIS_BUCKET, decodeClientContext, errorText, observed } from "./recorder.js";

/** Where the nodes are and what to read. */
export interface FinalReadOptions {
  readonly nodes: readonly { readonly id: string; readonly address: string }[];
  readonly keys: readonly { readonly key: string; readonly workload: WorkloadName }[];
  readonly n: number;
  readonly partitionCount: number;
  readonly timeoutMs: number;
  readonly pollMs: number;
  /**
   * The ring the cluster follows (after membership changes, the committed layout's, which is
   * no fresh claim); default: a fresh claim of `nodes`, as every node starts with.
   */
  readonly ring?: Ring | undefined;
}

/** The final state of every key and how convergence went. */
export interface FinalReadResult {
  readonly finals: FinalKey[];
  readonly converged: boolean;
  /** From the call until the replicas were first seen equal (or until giving up). */
  readonly elapsedMs: number;
  readonly rounds: number;
}

/** Polls until every key has converged, or timeoutMs passed. */
export async function readUntilConverged(options: FinalReadOptions): Promise<FinalReadResult> {
  const startMs = performance.now();
  const security = scriptSecurity();
  const quorumClient = new DkvClient(
    options.nodes.map((node) => node.address),
    { security },
  );
  const localClients = options.nodes.map((node) => ({
    id: node.id,
    client: new DkvClient([node.address], { security }),
  }));
  const ring =
    options.ring ??
    claimRing({
      nodes: options.nodes.map((node) => nodeId(node.id)),
      partitionCount: options.partitionCount,
      targetN: options.n,
    });
  try {
    for (let round = 1; ; round++) {
      const finals: FinalKey[] = [];
      const problems: string[] = [];
      for (const { key, workload } of options.keys) {
        const partition = partitionOfKey(NEMESIS_BUCKET, Buffer.from(key), options.partitionCount);
        const primaries = preferenceList(ring, new Set(ring.nodes), partition, options.n).primaries;
        const final = await readKey(key, workload, [...primaries], quorumClient, localClients);
        if (typeof final === "string") problems.push(final);
        else {
          finals.push(final);
          if (!keyConverged(final)) problems.push(`${key}: replicas differ`);
        }
      }
      const elapsedMs = Math.round(performance.now() - startMs);
      if (problems.length === 0) {
        say(
          `converged: every replica of ${finals.length} keys agrees (${elapsedMs} ms, round ${round})`,
        );
        return { finals, converged: true, elapsedMs, rounds: round };
      }
      if (elapsedMs >= options.timeoutMs && finals.length === options.keys.length) {
        say(`not converged after ${elapsedMs} ms: ${problems.slice(0, 3).join("; ")}`);
        return { finals, converged: false, elapsedMs, rounds: round };
      }
      if (elapsedMs >= options.timeoutMs * 2) {
        throw new Error(`final reads keep failing after ${elapsedMs} ms: ${problems.join("; ")}`);
      }
      if (round % 10 === 1) say(`waiting for convergence: ${problems.slice(0, 3).join("; ")}`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
  } finally {
    quorumClient.close();
    for (const { client } of localClients) client.close();
  }
}

/** The r=all read and every node's copy of one key; a message when a read failed. */
async function readKey(
  key: string,
  workload: WorkloadName,
  primaries: string[],
  quorumClient: DkvClient,
  localClients: readonly { readonly id: string; readonly client: DkvClient }[],
): Promise<FinalKey | string> {
  let quorum;
  try {
    quorum = await quorumClient.get(key, { r: "all", timeoutMs: 5000 });
  } catch (error) {
    return `${key}: r=all read failed (${errorText(error)})`;
  }
  const copies: LocalCopy[] = [];
  for (const { id, client } of localClients) {
    try {
      const local = await client.localGet(key, { timeoutMs: 5000 });
      copies.push({
        node: id,
        found: local.found,
        siblings: observed(local.siblings),
        context: local.found ? decodeClientContext(key, local.context) : EMPTY_CONTEXT,
      });
    } catch (error) {
      return `${key}: local read on ${id} failed (${errorText(error)})`;
    }
  }
  return {
    key,
    workload,
    primaries,
    siblings: observed(quorum.siblings),
    context: decodeClientContext(key, quorum.context),
    copies,
  };
}
