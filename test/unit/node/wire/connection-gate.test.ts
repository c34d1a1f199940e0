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
async function gatedServer(
  limits = DEFAULT_LIMITS,
): Promise<{ gate: ConnectionGate; port: number; seen: () => number }> {
  const gate = new ConnectionGate(limits, SYSTEM_CLOCK);
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
function connectOnce(port: number, localAddress = "127.0.0.1"): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1", localAddress });
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

  it("spends strangerHandshakeRateMax on all untrusted addresses together; members and trusted addresses pass", async () => {
    // 1 a second, a burst of 2: slow enough that no token comes back during the test.
    const { gate, port, seen } = await gatedServer({
      ...DEFAULT_LIMITS,
      strangerHandshakeRateMax: 1,
    });
    expect(gate.refusesEarly).toBe(true);
    // Two strangers, one connection each: each spends one share, once (the raw handle's
    // verdict is not judged again at 'connection').
    expect(await connectOnce(port, "127.0.0.2")).toBe("hello");
    expect(await connectOnce(port, "127.0.0.3")).toBe("hello");
    // A third stranger, at an address with its own budgets untouched, is refused for the rate.
    expect(await connectOnce(port, "127.0.0.4")).toBe("ECONNRESET");
    expect(gate.refused.get("stranger-rate")).toBe(1);
    // A member's host and an address that authenticated a call are not held to it.
    gate.trustMembers(["127.0.0.5:7001", "[::1]:7002", "node-7.example:7003"]);
    expect(await connectOnce(port, "127.0.0.5")).toBe("hello");
    gate.authenticated("127.0.0.6");
    expect(await connectOnce(port, "127.0.0.6")).toBe("hello");
    // A new layout replaces the members: the old member's host is a stranger again.
    gate.trustMembers(["127.0.0.7:7001"]);
    expect(await connectOnce(port, "127.0.0.5")).toBe("ECONNRESET");
    expect(gate.refused.get("stranger-rate")).toBe(2);
    // followMembers: a view's members now, and again after each change of its layout.
    const listeners: (() => void)[] = [];
    const view = {
      members: [{ address: "127.0.0.8:7001" }],
      onLayoutChange: (listener: () => void) => listeners.push(listener),
    };
    gate.followMembers(view);
    expect(await connectOnce(port, "127.0.0.8")).toBe("hello");
    view.members = [{ address: "127.0.0.9:7001" }];
    for (const listener of listeners) listener();
    expect(await connectOnce(port, "127.0.0.8")).toBe("ECONNRESET");
    expect(await connectOnce(port, "127.0.0.9")).toBe("hello");
    expect(seen()).toBe(6);
  });
});
