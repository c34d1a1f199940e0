import { describe, expect, it } from "vitest";
import { ConnectionLedger } from "../../../../node/wire/connection-ledger.js";

describe("ConnectionLedger", () => {
  it("admits up to the per-address bound from one address and still admits other addresses", () => {
    const ledger = new ConnectionLedger({ addressConnectionsMax: 2, connectionsMax: 10 });
    expect(ledger.admit("10.0.0.1").admitted).toBe(true);
    expect(ledger.admit("10.0.0.1").admitted).toBe(true);
    expect(ledger.admit("10.0.0.1")).toEqual({
      admitted: false,
      reason: "address-limit",
      held: 2,
      limit: 2,
    });
    expect(ledger.admit("10.0.0.2").admitted).toBe(true);
    expect(ledger.open).toBe(3);
    expect(ledger.heldBy("10.0.0.1")).toBe(2);
  });

  it("refuses everyone once the total bound is reached, and admits again after a close", () => {
    const ledger = new ConnectionLedger({ addressConnectionsMax: 5, connectionsMax: 2 });
    ledger.admit("a");
    ledger.admit("b");
    expect(ledger.admit("c")).toMatchObject({ admitted: false, reason: "total-limit", held: 2 });
    ledger.release("a");
    expect(ledger.admit("c").admitted).toBe(true);
  });

  it("forgets an address once its last connection closes, so the map stays bounded", () => {
    const ledger = new ConnectionLedger({ addressConnectionsMax: 5, connectionsMax: 100 });
    for (let index = 0; index < 50; index++) ledger.admit(`10.0.0.${index}`);
    for (let index = 0; index < 50; index++) ledger.release(`10.0.0.${index}`);
    expect(ledger.addresses).toBe(0);
    expect(ledger.open).toBe(0);
  });

  it("refusals count nothing, and a release of an address holding nothing is a bug", () => {
    const ledger = new ConnectionLedger({ addressConnectionsMax: 1, connectionsMax: 1 });
    ledger.admit("a");
    ledger.admit("a");
    ledger.admit("b");
    expect(ledger.open).toBe(1);
    expect(() => ledger.release("b")).toThrow(/holds no connection/);
  });
});
