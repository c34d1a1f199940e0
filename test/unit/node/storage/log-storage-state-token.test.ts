// Goal: the log engine's state token (what the anti-entropy snapshot is checked against) is the
// same at a clean close and at the next open when nothing wrote in between, and differs after
// any write, removal or merge; engines that cannot tell give none.
// Method: the log engine over a temporary directory, closed and reopened as a restart does.

import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../../../node/storage/memory-storage.js";
import { bytes, logStorageFixture } from "./storage-test-helpers.js";

describe("log storage state token", () => {
  const log = logStorageFixture();

  it("names the state a clean close left, which the next open finds unchanged", async () => {
    const storage = await log.start({ autoMerge: false });
    expect(storage.stateToken("closed")).toBeUndefined();
    for (let i = 0; i < 30; i++)
      await storage.put("b", bytes(`k${i}`), bytes(`v${i}`), { durable: false });
    await log.closeAll();
    const closed = storage.stateToken("closed");
    expect(closed).toMatch(/^log-v1 \d+:\d+/);

    const reopened = await log.start({ autoMerge: false });
    expect(reopened.stateToken("opened")).toBe(closed);
    // Nothing written: this close leaves the same state (its empty active segment aside).
    await log.closeAll();
    expect(reopened.stateToken("closed")).toBe(closed);
  });

  it("changes with a write, a removal and a merge", async () => {
    const tokens: (string | undefined)[] = [];
    const steps: ((storage: Awaited<ReturnType<typeof log.start>>) => Promise<unknown>)[] = [
      (s) => s.put("b", bytes("a"), bytes("1"), { durable: true }),
      (s) => s.put("b", bytes("a"), bytes("1"), { durable: true }),
      (s) => s.remove("b", bytes("a"), { durable: true }),
      async (s) => {
        for (let i = 0; i < 40; i++)
          await s.put("b", bytes(`k${i % 4}`), bytes(`v${i}`), { durable: false });
      },
      (s) => s.merge(),
    ];
    for (const step of steps) {
      const storage = await log.start({ segmentBytesMax: 512, autoMerge: false });
      tokens.push(storage.stateToken("opened"));
      await step(storage);
      await log.closeAll();
    }
    const last = await log.start({ autoMerge: false });
    tokens.push(last.stateToken("opened"));
    // Each step's close differs from its open, even a put of the same bytes again.
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it("is not kept by the memory engine", async () => {
    const storage = new MemoryStorage();
    await storage.open();
    expect((storage as { stateToken?: unknown }).stateToken).toBeUndefined();
    await storage.close();
  });
});
