// Helpers of the membership tests (membership.test.ts, transfer-resume.test.ts): Membership
// service clients on a test cluster's nodes, the metadata a node holds, and waits.

import type * as grpc from "@grpc/grpc-js";
import type { TestCluster } from "./local-cluster-harness.js";
import { loadProto } from "../../proto/load-proto.js";
import type { MembershipClient } from "../../proto/generated/dkv/v1/Membership.js";
import type { ClusterMetadata } from "../../node/core/layout.js";
import { decodeMetadata } from "../../node/core/layout-codec.js";

/** Membership clients on the nodes of the cluster `current()` returns (it may change per test). */
export class MembershipProbe {
  readonly #current: () => TestCluster;
  readonly #clients: MembershipClient[] = [];

  constructor(current: () => TestCluster) {
    this.#current = current;
  }

  /** A Membership client on `node`, closed by close(). */
  client(node: string): MembershipClient {
    const v1 = loadProto().grpcObject.dkv.v1;
    const address = this.#current().spec(node).address;
    const secured = this.#current().security.channel(address);
    const client = new v1.Membership(address, secured.credentials, secured.options);
    this.#clients.push(client);
    return client;
  }

  /** The cluster metadata `node` holds. */
  async metadataOf(node: string): Promise<ClusterMetadata> {
    const reply = await unary<{ metadata_json: string }>((callback) =>
      this.client(node).Get({}, { deadline: Date.now() + 5000 }, callback),
    );
    return decodeMetadata(Buffer.from(reply.metadata_json, "utf8"));
  }

  /** Waits until every node named has retired the change (no transition) at `version` or later. */
  async waitRetired(nodes: readonly string[], version: number): Promise<void> {
    await eventually(async () => {
      for (const node of nodes) {
        const { layout } = await this.metadataOf(node);
        if (layout.previousOwners !== undefined || layout.version < version) return false;
      }
      return true;
    }, 90_000);
  }

  close(): void {
    for (const client of this.#clients.splice(0)) client.close();
  }
}

/** A unary call as a promise. */
export function unary<T>(
  call: (callback: (error: grpc.ServiceError | null, reply?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    call((error, reply) =>
      error !== null || reply === undefined ? reject(error) : resolve(reply),
    ),
  );
}

/** Polls `check` (a throw counts as false) until it holds; throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const giveUpAtMs = Date.now() + timeoutMs;
  while (Date.now() < giveUpAtMs) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!(await check())) throw new Error(`not reached within ${timeoutMs} ms`);
}
