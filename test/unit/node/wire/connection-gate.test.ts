// The connection gate on a real net.Server on 127.0.0.1: an address whose calls keep failing
// authentication is refused from the raw handle, before Node makes a Socket of it and with a TCP
// reset, so the server's 'connection' listeners never see it; a trusted address is let in. The
// raw-handle path rests on Node internals: this test fails on the pinned Node if they change.

import { afterEach, describe, expect, it } from "vitest";
import net from "node:net";
import { ConnectionGate } from "../../../../node/wire/connection-gate.js";
import { DEFAULT_LIMITS } from "../../../../node/core/limits.js";
import { SYSTEM_CLOCK } from "../../../../node/clock.js";

const servers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** A server behind a gate; `seen` counts the connections its listeners were handed. */
async function gatedServer(): Promise<{ gate: ConnectionGate; port: number; seen: () => number }> {
  const gate = new ConnectionGate(DEFAULT_LIMITS, SYSTEM_CLOCK);
  let seen = 0;
  const server = net.createServer((socket) => {
    seen += 1;
    socket.end("hello");
  });
  servers.push(server);
  gate.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { gate, port: (server.address() as net.AddressInfo).port, seen: () => seen };
}

/** Connects and says how the connection ended: what it read, or the error code. */
function connectOnce(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let read = "";
    socket.on("data", (chunk) => (read += chunk.toString()));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    socket.on("close", () => resolve(read));
  });
}

describe("ConnectionGate", () => {
  it("refuses a condemned address from its raw handle with a reset, unseen by the server", async () => {
    const { gate, port, seen } = await gatedServer();
    expect(gate.refusesEarly).toBe(true);
    expect(await connectOnce(port)).toBe("hello");
    expect(seen()).toBe(1);
    // Calls from 127.0.0.1 fail authentication until its budget is spent.
    for (let failure = 0; failure < 40; failure++) gate.authFailed("127.0.0.1");
    expect(await connectOnce(port)).toBe("ECONNRESET");
    expect(await connectOnce(port)).toBe("ECONNRESET");
    expect(seen()).toBe(1);
    expect(gate.refused.get("auth-failures")).toBe(2);
    // One authenticated call and the address is trusted again.
    gate.authenticated("127.0.0.1");
    expect(await connectOnce(port)).toBe("hello");
    expect(seen()).toBe(2);
  });
});
