// The HTTP endpoint Prometheus scrapes: GET /metrics in the text exposition format, from the
// node's own registry, over node:http; every other path is 404. Off unless --metrics-listen.

import http from "node:http";
import type net from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../logger.js";

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** host:port as bound (port 0 resolved). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `listen` (host:port; port 0 picks a free one) and serves `registry`. */
export async function startMetricsServer(options: {
  readonly listen: string;
  readonly registry: Registry;
  readonly logger: Logger;
}): Promise<MetricsServer> {
  const { registry, logger } = options;
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "").split("?", 1)[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      response.end("not found: the metrics are at GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (body) => {
        response.writeHead(200, { "content-type": registry.contentType });
        response.end(request.method === "HEAD" ? undefined : body);
      },
      (error: unknown) => {
        logger.warn({ err: error }, "metrics collection failed");
        response.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        response.end("metrics collection failed\n");
      },
    );
  });
  // A scraper holds one keep-alive connection; it must not keep the node from stopping.
  server.keepAliveTimeout = 5000;
  const separator = options.listen.lastIndexOf(":");
  const host = options.listen.slice(0, separator).replace(/^\[(.*)\]$/, "$1");
  const wanted = Number(options.listen.slice(separator + 1));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(wanted, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  const address = `${options.listen.slice(0, separator)}:${port}`;
  return {
    address,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
