// The echo baseline: the dkv.v1.KV service with no storage, no replication and no decisions.
// Put answers at once; Get returns one fixed sibling of the benchmark's value size. What a
// client measures against it is the cost of gRPC itself on this machine (DESIGN §9).

import * as grpc from "@grpc/grpc-js";
import { loadProto } from "../../proto/load-proto.js";
import type { KVHandlers } from "../../proto/generated/dkv/v1/KV.js";
import type { SessionRequest__Output } from "../../proto/generated/dkv/v1/SessionRequest.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { channelOptions } from "../../node/peer-clients.js";

const OK_ITEM = { code: 0, message: "", not_applied: false };

/** The fixed replies of an echo server. */
function echoHandlers(valueBytes: number): KVHandlers {
  // A context of a typical size; clients treat it as opaque bytes.
  const context = Buffer.alloc(24, 7);
  const sibling = {
    value: Buffer.alloc(valueBytes, 0x5a),
    content_type: "application/octet-stream",
    metadata: {},
    vtag: "echo",
    last_modified_ms: 0,
    deleted: false,
  };
  return {
    Get(_call, callback) {
      callback(null, { siblings: [sibling], context });
    },
    Put(_call, callback) {
      callback(null, { context, siblings: [], vtag: "echo" });
    },
    Delete(_call, callback) {
      callback(null, {});
    },
    BatchGet(call, callback) {
      const reply = { siblings: [sibling], context };
      callback(null, { results: call.request.items.map(() => ({ status: OK_ITEM, reply })) });
    },
    BatchPut(call, callback) {
      const reply = { context, siblings: [], vtag: "echo" };
      callback(null, { results: call.request.items.map(() => ({ status: OK_ITEM, reply })) });
    },
    Session(call) {
      const get = { siblings: [sibling], context };
      const put = { context, siblings: [], vtag: "echo" };
      call.on("data", (message: SessionRequest__Output) => {
        const results = message.items.map((item) => {
          const reply = item.op === "get" ? { get } : item.op === "put" ? { put } : { delete: {} };
          return { id: item.id, status: OK_ITEM, ...reply };
        });
        call.write({ results });
      });
      call.on("end", () => call.end());
    },
  };
}

/** A running echo server. */
export interface EchoServer {
  readonly address: string;
  stop(): Promise<void>;
}

/** Starts an echo KV server on host:port (port 0 picks a free one). */
export async function startEchoServer(options: {
  readonly host: string;
  readonly port: number;
  readonly valueBytes: number;
}): Promise<EchoServer> {
  const { grpcObject } = loadProto();
  // The same server options as a dkv node (cli/start-node.ts), so only the handlers differ.
  const server = new grpc.Server(channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax));
  server.addService(grpcObject.dkv.v1.KV.service, echoHandlers(options.valueBytes));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${options.host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error === null ? resolve(bound) : reject(error)),
    ),
  );
  return {
    address: `${options.host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
