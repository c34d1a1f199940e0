// What a protobuf fuzz run sets up and checks around the calls (issue 15), shared by
// test/integration/fuzz.test.ts and scripts/fuzz.ts: the four callers, the fence that keeps
// privileged fuzzing off the guarded state, the methods to fuzz, and the guarded keys written
// before and read back after.

import { readFileSync } from "node:fs";
import type protobuf from "protobufjs";
import type { DkvClient } from "../../coordinator/client.js";
import { nodeId } from "../../node/core/node-id.js";
import { nodeCredentialFiles } from "../../node/security/credential-files.js";
import type { ClientCredentialsPem } from "../../node/security/client-security.js";
import type { FuzzCaller } from "./fuzz-calls.js";
import { methodsOf, unknownMethods, type FuzzFence, type FuzzMethod } from "./proto-fuzz.js";

/** The bucket of the keys that must survive the fuzz; the fence keeps every fuzzed call off it. */
export const GUARDED_BUCKET = "fuzz-guarded";
/** The token user, granted read on this bucket only. */
export const READER = { user: "reader", bucket: "photos" } as const;

/**
 * The fence of a run on a cluster of `nodeIds`: no fuzzed message names the guarded bucket, a
 * member, the admin or the reader (so none removes, rotates or re-grants them), and no
 * Membership.Stage stages a real change (so Commit has nothing to commit).
 */
export function fuzzFence(nodeIds: readonly string[]): FuzzFence {
  return {
    forbiddenStrings: new Set([GUARDED_BUCKET, ...nodeIds, "admin", READER.user]),
    stageKinds: new Set(["join", "leave", "replace", "force-remove"]),
  };
}

/**
 * The four callers: anonymous (the CA only), the reader by token, the bootstrap admin by
 * certificate, and member node `node` by its node certificate from `certDir`.
 */
export function fuzzCallers(
  admin: ClientCredentialsPem,
  readerToken: string,
  certDir: string,
  node: string,
): FuzzCaller[] {
  const files = nodeCredentialFiles(certDir, nodeId(node));
  return [
    { name: "anonymous", credentials: { ca: admin.ca }, anonymous: true },
    { name: "reader", credentials: { ca: admin.ca }, token: readerToken, anonymous: false },
    { name: "admin", credentials: admin, anonymous: false },
    {
      name: `node ${node}`,
      credentials: {
        ca: admin.ca,
        cert: readFileSync(files.certFile, "utf8"),
        key: readFileSync(files.keyFile, "utf8"),
      },
      anonymous: false,
    },
  ];
}

/**
 * The methods to fuzz: every method of the loaded protos whose service the node lists through
 * reflection (reflection does not list itself, but it is served: it answered), plus two
 * unknown methods. Throws when the node serves a service the protos do not have.
 */
export function methodsToFuzz(root: protobuf.Root, reflected: readonly string[]): FuzzMethod[] {
  const known = methodsOf(root);
  const unknown = reflected.filter((name) => !known.some((method) => method.service === name));
  if (unknown.length > 0) throw new Error(`the node serves ${unknown.join(", ")}: add its proto`);
  const served = (service: string): boolean =>
    reflected.includes(service) || service.startsWith("grpc.reflection.");
  return [...known.filter((method) => served(method.service)), ...unknownMethods(root)];
}

/**
 * Writes `count` keys to the guarded bucket at w=3 (every third one twice, without a context:
 * two siblings); resolves with what reading them at r=3 shows.
 */
export async function writeGuardedKeys(
  client: DkvClient,
  count: number,
): Promise<Map<string, string[]>> {
  const written = new Map<string, string[]>();
  for (let index = 0; index < count; index++) {
    const key = `kept-${index}`;
    const value = Buffer.from([index & 0xff, 0, 255, ...Buffer.from(`value ${index}`)]);
    await client.put(key, value, { bucket: GUARDED_BUCKET, w: 3 });
    if (index % 3 === 0)
      await client.put(key, `sibling ${index}`, { bucket: GUARDED_BUCKET, w: 3 });
    written.set(key, await readGuardedKey(client, key));
  }
  return written;
}

/** A guarded key's siblings at r=3, each as value (hex), vtag and tombstone flag, sorted. */
export async function readGuardedKey(client: DkvClient, key: string): Promise<string[]> {
  const read = await client.get(key, { bucket: GUARDED_BUCKET, r: 3 });
  return read.siblings
    .map((s) => `${Buffer.from(s.value).toString("hex")}/${s.vtag}/${s.deleted}`)
    .sort();
}
