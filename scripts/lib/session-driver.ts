// A raw KV.Session for benchmarks: one stream per node, messages of exactly the items a caller
// gives (the TypeScript client's coalescing would merge the lanes of one turn), and a promise
// per message that resolves once every one of its items is answered.

import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../../proto/load-proto.js";
import type { KVClient } from "../../proto/generated/dkv/v1/KV.js";
import type { SessionItem } from "../../proto/generated/dkv/v1/SessionItem.js";
import type { SessionRequest } from "../../proto/generated/dkv/v1/SessionRequest.js";
import type { SessionResponse__Output } from "../../proto/generated/dkv/v1/SessionResponse.js";
import type { ClientSecurity } from "../../node/security/client-security.js";

/** How the items of one message ended. */
export interface MessageOutcome {
  readonly ok: number;
  readonly failed: number;
}

/** One raw session stream to one node. */
export class SessionDriver {
  readonly #kv: KVClient;
  readonly #stream: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output>;
  readonly #waiting = new Map<number, (ok: boolean) => void>();
  #nextId = 1;
  #failure: Error | undefined;

  constructor(address: string, security: ClientSecurity) {
    const secured = security.channel(address);
    this.#kv = new (loadProto().grpcObject.dkv.v1.KV)(
      address,
      secured.credentials,
      secured.options,
    );
    this.#stream = this.#kv.Session();
    this.#stream.on("data", (response: SessionResponse__Output) => {
      for (const result of response.results) {
        const settle = this.#waiting.get(result.id);
        this.#waiting.delete(result.id);
        settle?.((result.status?.code ?? 0) === grpc.status.OK);
      }
    });
    this.#stream.on("status", (status: grpc.StatusObject) => {
      this.#failure = new Error(`session ended: ${status.code} ${status.details}`);
      for (const settle of this.#waiting.values()) settle(false);
      this.#waiting.clear();
    });
    this.#stream.on("error", () => undefined);
  }

  /** Sends the items (ids are given here) as one message; resolves once all are answered. */
  async send(items: readonly Omit<SessionItem, "id">[]): Promise<MessageOutcome> {
    if (this.#failure !== undefined) throw this.#failure;
    const answers = items.map(
      () => new Promise<boolean>((resolve) => this.#waiting.set(this.#nextId++, resolve)),
    );
    const firstId = this.#nextId - items.length;
    this.#stream.write({ items: items.map((item, index) => ({ ...item, id: firstId + index })) });
    const settled = await Promise.all(answers);
    const ok = settled.filter(Boolean).length;
    return { ok, failed: settled.length - ok };
  }

  close(): void {
    this.#stream.end();
    this.#kv.close();
  }
}
