// Goal: generic gRPC tools can discover and probe a node: the standard health service answers
// SERVING and server reflection lists dkv.v1.KV.
// Method: one single-node cluster; a health client and a reflection client built from the
// protos shipped with grpc-health-check and @grpc/reflection.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { TestCluster } from "./local-cluster-harness.js";
import { HealthClient } from "../../cli/health-client.js";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({ nodes: 1 });
});

afterAll(async () => {
  await cluster?.stop();
});

describe("standard gRPC services", () => {
  it("answers the health check with SERVING", async () => {
    const health = new HealthClient(cluster.spec("n1").address, cluster.security);
    try {
      expect(await health.check(2000)).toBe("SERVING");
    } finally {
      health.close();
    }
  });

  it("lists dkv.v1.KV through server reflection", async () => {
    const require = createRequire(import.meta.url);
    const reflectionDir = path.dirname(require.resolve("@grpc/reflection/package.json"));
    const definition = protoLoader.loadSync(
      path.join(reflectionDir, "build/proto/grpc/reflection/v1/reflection.proto"),
      { keepCase: true },
    );
    type ReflectionReply = { list_services_response?: { service: { name: string }[] } };
    type ReflectionStream = grpc.ClientDuplexStream<object, ReflectionReply>;
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: {
        reflection: {
          v1: {
            ServerReflection: new (
              address: string,
              credentials: grpc.ChannelCredentials,
              options: grpc.ChannelOptions,
            ) => grpc.Client & { ServerReflectionInfo(): ReflectionStream };
          };
        };
      };
    };
    const address = cluster.spec("n1").address;
    const secured = cluster.security.channel(address);
    const client = new loaded.grpc.reflection.v1.ServerReflection(
      address,
      secured.credentials,
      secured.options,
    );
    try {
      const names = await new Promise<string[]>((resolve, reject) => {
        const stream = client.ServerReflectionInfo();
        stream.on("data", (reply: ReflectionReply) => {
          resolve(reply.list_services_response?.service.map((service) => service.name) ?? []);
          stream.end();
        });
        stream.on("error", reject);
        stream.write({ list_services: "" });
      });
      expect(names).toContain("dkv.v1.KV");
      expect(names).toContain("grpc.health.v1.Health");
    } finally {
      client.close();
    }
  });
});
