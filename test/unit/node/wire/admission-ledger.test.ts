import { describe, expect, it } from "vitest";
import { AdmissionLedger, type AdmissionLimits } from "../../../../node/wire/admission-ledger.js";

const MiB = 1024 * 1024;
const limits: AdmissionLimits = {
  requestsInFlightMax: 100,
  connectionRequestsInFlightMax: 10,
  requestBytesInFlightMax: 64 * MiB,
  connectionBytesInFlightMax: 16 * MiB,
};

/** Opens `count` public calls on `connection`; returns how many were admitted. */
function flood(ledger: AdmissionLedger<string>, connection: string, count: number): number {
  let admitted = 0;
  for (let index = 0; index < count; index++) if (ledger.begin(connection, true).ok) admitted++;
  return admitted;
}

describe("AdmissionLedger fair shedding", () => {
  it("keeps a share free for a newcomer even while one connection is alone", () => {
    const ledger = new AdmissionLedger<string>(limits);
    // Busy past 50 in flight; alone, its share is 100 / (1 + 1).
    expect(flood(ledger, "greedy", 200)).toBe(51);
    expect(flood(ledger, "late-polite", 5)).toBe(5);
  });

  it("stops a greedy connection at its share while a polite one keeps being admitted", () => {
    const ledger = new AdmissionLedger<string>(limits);
    expect(ledger.begin("polite", true).ok).toBe(true);
    expect(flood(ledger, "greedy", 200)).toBe(50); // busy at 51 in flight; share 100 / 3
    const refused = ledger.begin("greedy", true);
    expect(refused).toMatchObject({ ok: false, reason: "fair-share" });
    if (!refused.ok) expect(refused.message).toMatch(/this connection has 50 requests in flight/);
    expect(flood(ledger, "polite", 20)).toBe(20);
    expect(ledger.publicCalls).toBeLessThan(limits.requestsInFlightMax);
  });

  it("never sets a share below connectionRequestsInFlightMax", () => {
    const ledger = new AdmissionLedger<string>(limits);
    for (let index = 0; index < 40; index++) ledger.begin(`c${index}`, true);
    expect(ledger.fairShare()).toBe(10);
    // Not busy until more than 50 are in flight: c0 gets 11 more (51 in flight, c0 at 12),
    // then its share of 10 holds, not 100 / 40.
    expect(flood(ledger, "c0", 100)).toBe(11);
  });

  it("does not shed while the node is not busy", () => {
    const ledger = new AdmissionLedger<string>(limits);
    ledger.begin("a", true);
    expect(flood(ledger, "b", 49)).toBe(49);
  });

  it("counts internal calls for bytes but not for fair shedding", () => {
    const ledger = new AdmissionLedger<string>(limits);
    for (let index = 0; index < 500; index++) expect(ledger.begin("peer", false).ok).toBe(true);
    expect(ledger.publicCalls).toBe(0);
  });
});

describe("AdmissionLedger byte budgets", () => {
  it("refuses a hold past the connection budget and records nothing", () => {
    const ledger = new AdmissionLedger<string>(limits);
    ledger.begin("a", false);
    expect(ledger.hold("a", 10 * MiB).ok).toBe(true);
    const refused = ledger.hold("a", 7 * MiB);
    expect(refused).toMatchObject({ ok: false, reason: "connection-bytes" });
    if (!refused.ok) expect(refused.message).toMatch(/would hold 17 MiB .* \(limit 16 MiB\)/);
    expect(ledger.bytesOf("a")).toBe(10 * MiB);
    expect(ledger.isStalled("a")).toBe(true);
    ledger.progress("a");
    expect(ledger.isStalled("a")).toBe(false);
  });

  it("refuses calls past the node budget however the connections share it", () => {
    const ledger = new AdmissionLedger<string>(limits);
    for (const connection of ["a", "b", "c", "d"]) {
      ledger.begin(connection, false);
      expect(ledger.hold(connection, 16 * MiB).ok).toBe(true);
    }
    expect(ledger.begin("e", false)).toMatchObject({ ok: false, reason: "node-bytes" });
    ledger.begin("d", false);
    expect(ledger.hold("d", 1)).toMatchObject({ ok: false, reason: "node-bytes" });
    expect(ledger.nodeBytes).toBe(64 * MiB);
  });

  it("refuses new calls before reading them once a budget is spent", () => {
    const ledger = new AdmissionLedger<string>(limits);
    ledger.begin("a", true);
    ledger.hold("a", 16 * MiB);
    expect(ledger.begin("a", true)).toMatchObject({ ok: false, reason: "connection-bytes" });
    expect(ledger.begin("b", true).ok).toBe(true);
  });

  it("forgets a connection once its calls ended and its bytes are released", () => {
    const ledger = new AdmissionLedger<string>(limits);
    ledger.begin("a", true);
    ledger.hold("a", 5);
    ledger.end("a", true);
    expect(ledger.connectionCount).toBe(1);
    ledger.release("a", 5);
    expect(ledger.connectionCount).toBe(0);
    expect(ledger.nodeBytes).toBe(0);
    expect(ledger.publicCalls).toBe(0);
  });
});
