// A small client of the standard gRPC health service, used to wait for nodes to serve.

import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import type { ClientSecurity } from "../node/security/client-security.js";

interface HealthCheckClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: { status: string }) => void,
  ): void;
}

/** Asks one node whether it is SERVING. */
export class HealthClient {
  readonly #client: HealthCheckClient;

  constructor(address: string, security: ClientSecurity) {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: {
        health: {
          v1: {
            Health: new (
              address: string,
              credentials: grpc.ChannelCredentials,
              options?: object,
            ) => HealthCheckClient;
          };
        };
      };
    };
    const secured = security.channel(address);
    this.#client = new loaded.grpc.health.v1.Health(address, secured.credentials, {
      "grpc.initial_reconnect_backoff_ms": 50,
      "grpc.max_reconnect_backoff_ms": 200,
      ...secured.options,
    });
  }

  /** The status string, or "UNREACHABLE" when the call failed. */
  check(timeoutMs: number): Promise<string> {
    return new Promise((resolve) => {
      this.#client.Check({ service: "" }, { deadline: Date.now() + timeoutMs }, (error, reply) =>
        resolve(error || reply === undefined ? "UNREACHABLE" : reply.status),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}
