// Goal: KeyQueue runs work on one key in call order, one at a time, even after a failure, runs
// work on different keys concurrently, and forgets a key once its work has settled.
// Method: work that waits on promises the test resolves, and a log of starts and ends.

import { describe, expect, it } from "vitest";
import { KeyQueue } from "../../../node/key-queue.js";

/** A promise and its resolve, so the test decides when a piece of work ends. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe("KeyQueue", () => {
  it("runs work on one key one at a time in call order, and other keys alongside", async () => {
    const queue = new KeyQueue();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const work = (name: string, gate: Promise<void>) => async (): Promise<string> => {
      log.push(`start ${name}`);
      await gate;
      log.push(`end ${name}`);
      return name;
    };
    const first = queue.run("a", work("a1", gates[0]!.promise));
    const second = queue.run("a", work("a2", gates[1]!.promise));
    const other = queue.run("b", work("b1", gates[2]!.promise));
    await Promise.resolve();
    expect(log).toEqual(["start a1", "start b1"]);
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await other).toBe("b1");
    expect(log).toEqual(["start a1", "start b1", "end b1"]);
    gates[0]!.resolve();
    expect(await first).toBe("a1");
    expect(await second).toBe("a2");
    expect(log).toEqual(["start a1", "start b1", "end b1", "end a1", "start a2", "end a2"]);
    expect(queue.size).toBe(0);
  });

  it("runs the next work on a key after earlier work failed, and passes the failure on", async () => {
    const queue = new KeyQueue();
    const failing = queue.run("a", () => Promise.reject(new Error("disk full")));
    const next = queue.run("a", async () => "ran");
    await expect(failing).rejects.toThrow("disk full");
    expect(await next).toBe("ran");
    expect(queue.size).toBe(0);
  });
});
