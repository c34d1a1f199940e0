// Goal: the metrics endpoint serves the registry at GET /metrics in the Prometheus text format
// on a port of its own (0 picks a free one) and answers 404 to everything else.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Counter, Registry } from "prom-client";
import { startMetricsServer, type MetricsServer } from "../../../../node/metrics/metrics-server.js";
import { silentLogger } from "../../../../node/logger.js";

let server: MetricsServer;

beforeAll(async () => {
  const registry = new Registry();
  new Counter({ name: "dkv_test_total", help: "a test counter", registers: [registry] }).inc(3);
  server = await startMetricsServer({ listen: "127.0.0.1:0", registry, logger: silentLogger() });
});

afterAll(async () => {
  await server?.close();
});

describe("startMetricsServer()", () => {
  it("binds a free port and says which", () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
  });

  it("serves the registry at GET /metrics", async () => {
    const response = await fetch(`http://${server.address}/metrics?x=1`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toMatch(/^dkv_test_total 3$/m);
  });

  it.each([
    ["GET", "/"],
    ["GET", "/metrics/x"],
    ["POST", "/metrics"],
  ])("answers %s %s with 404", async (method, path) => {
    const response = await fetch(`http://${server.address}${path}`, { method });
    expect(response.status).toBe(404);
  });

  it("refuses a port already taken", async () => {
    await expect(
      startMetricsServer({
        listen: server.address,
        registry: new Registry(),
        logger: silentLogger(),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
