// Growing a running cluster by `dkv serve --join`, as an operator would: wait until the seed
// holds the staged joins of the new nodes, commit them with the `dkv cluster commit` command
// line, then wait until every node has retired the change. Used by netns-cluster.ts up --join.

import type { ClientSecurity } from "../../node/security/client-security.js";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { MetadataReply__Output } from "../../proto/generated/dkv/v1/MetadataReply.js";
import { callMembership } from "../../cli/commands/cluster-membership.js";
import { parseMetadataJson, type MetadataView } from "../../cli/membership-output.js";
import { say, sleep } from "./fault-cluster.js";

const execFileAsync = promisify(execFile);

/** How often the waits below ask the nodes again. */
const POLL_INTERVAL_MS = 200;
/** Per call: a node that does not answer within this is asked again at the next poll. */
const CALL_TIMEOUT_MS = 2000;

/** The cluster metadata the node at `address` holds. */
export async function metadataAt(address: string, security: ClientSecurity): Promise<MetadataView> {
  const { reply } = await callMembership<MetadataReply__Output>(
    [address],
    CALL_TIMEOUT_MS,
    (client, options, done) => client.Get({}, options, done),
    security,
  );
  return parseMetadataJson(reply.metadata_json);
}

/** Waits until the seed holds a staged join (or membership) of each of `ids`. */
export async function waitJoinsStaged(
  seed: string,
  ids: readonly string[],
  timeoutMs: number,
  security: ClientSecurity,
): Promise<void> {
  const giveUpAtMs = Date.now() + timeoutMs;
  let missing: readonly string[] = ids;
  while (Date.now() < giveUpAtMs) {
    const metadata = await metadataAt(seed, security).catch(() => undefined);
    if (metadata !== undefined) {
      const known = new Set([
        ...metadata.staged.changes
          .filter((change) => change.kind === "join")
          .map((change) => change.node),
        ...metadata.layout.members.map((member) => member.node),
      ]);
      missing = ids.filter((id) => !known.has(id));
      if (missing.length === 0) return;
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(
    `the joins of ${missing.join(", ")} were not staged on ${seed} within ${timeoutMs} ms ` +
      "(see their node.log)",
  );
}

/**
 * Runs `dkv cluster plan --node seed`, then `dkv cluster commit --node seed` (which commits
 * exactly the plan shown), and prints what they printed; throws with stderr when one fails.
 */
export async function commitWithCli(
  mainScript: string,
  seed: string,
  clusterDir: string,
): Promise<void> {
  for (const verb of ["plan", "commit"]) {
    // --cluster-dir: the CLI finds the cluster's CA and admin certificate there.
    const args = [mainScript, "cluster", verb, "--node", seed, "--cluster-dir", clusterDir];
    say(`$ dkv ${args.slice(1).join(" ")}`);
    try {
      const { stdout } = await execFileAsync(process.execPath, args, { timeout: 30_000 });
      for (const line of stdout.trimEnd().split("\n")) say(`  ${line}`);
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
      throw new Error(`dkv cluster ${verb} failed: ${stderr || String(error)}`, { cause: error });
    }
  }
}

/** Why a set of nodes has not settled yet, or undefined when it has. */
export function unsettledReason(
  views: ReadonlyMap<string, MetadataView | undefined>,
  memberCount: number,
): string | undefined {
  const versions = new Set<number>();
  for (const [address, view] of views) {
    if (view === undefined) return `${address} does not answer`;
    const { layout } = view;
    if (layout.previousOwners !== undefined) {
      return `${address} is still in the transition to version ${layout.version}`;
    }
    const valid = layout.members.filter((member) => member.state === "valid").length;
    if (valid !== memberCount || layout.members.length !== memberCount) {
      return `${address} has ${valid} valid of ${layout.members.length} members at version ${layout.version}`;
    }
    versions.add(layout.version);
  }
  if (versions.size > 1) return `the nodes hold versions ${[...versions].join(", ")}`;
  return undefined;
}

/**
 * Waits until every address reports the same layout version, with no transition under way and
 * exactly `memberCount` members, all valid; resolves with that version.
 */
export async function waitLayoutSettled(
  addresses: readonly string[],
  memberCount: number,
  timeoutMs: number,
  security: ClientSecurity,
): Promise<number> {
  const giveUpAtMs = Date.now() + timeoutMs;
  let reason: string | undefined = "not asked yet";
  let said = "";
  while (Date.now() < giveUpAtMs) {
    const views = new Map<string, MetadataView | undefined>();
    const answers = await Promise.all(
      addresses.map((address) => metadataAt(address, security).catch(() => undefined)),
    );
    addresses.forEach((address, index) => views.set(address, answers[index]));
    reason = unsettledReason(views, memberCount);
    if (reason === undefined) return answers[0]?.layout.version ?? 0;
    if (reason !== said) say(`waiting: ${reason}`);
    said = reason;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`the layout did not settle within ${timeoutMs} ms: ${reason}`);
}
