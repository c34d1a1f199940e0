// Properties of the log engine against the memory model: any history of puts and removes, with
// reopens and merges in between, reads back as the model; a cut of the active segment at any
// byte reopens as a prefix of the history that holds every fsynced write.

import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import type { LogStorage } from "../../../../node/storage/log-storage.js";
import {
  makeTempDir,
  modelOpArbitrary,
  modelState,
  openLog,
  removeDir,
  segmentFiles,
  snapshot,
  type ModelOp,
} from "../../../unit/node/storage/storage-test-helpers.js";

const opArbitrary = modelOpArbitrary({ keys: 12, objectBytesMax: 120 });

type Step =
  | { readonly kind: "writes"; readonly ops: ModelOp[]; readonly durable: boolean }
  | { readonly kind: "reopen" }
  | { readonly kind: "merge"; readonly ops: ModelOp[] };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("writes" as const),
      ops: fc.array(opArbitrary, { maxLength: 12 }),
      durable: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("merge" as const),
      ops: fc.array(opArbitrary, { maxLength: 6 }),
    }),
  },
);

function apply(storage: LogStorage, op: ModelOp, durable: boolean): Promise<unknown> {
  return op.kind === "put"
    ? storage.put(op.bucket, op.key, op.object, { durable })
    : storage.remove(op.bucket, op.key, { durable });
}

test.prop([fc.array(stepArbitrary, { minLength: 1, maxLength: 10 })], { numRuns: 40 })(
  "any history of concurrent puts and removes, reopens and merges reads back as the memory model",
  async (steps) => {
    const dir = await makeTempDir();
    let storage = await openLog(dir, { segmentBytesMax: 400, mergeDeadRatio: 0.3 });
    try {
      const history: ModelOp[] = [];
      for (const step of steps) {
        if (step.kind === "reopen") {
          await storage.close();
          storage = await openLog(dir, { segmentBytesMax: 400, mergeDeadRatio: 0.3 });
        } else if (step.kind === "writes") {
          await Promise.all(step.ops.map((op) => apply(storage, op, step.durable)));
          history.push(...step.ops);
        } else {
          const merging = storage.merge();
          await Promise.all(step.ops.map((op) => apply(storage, op, false)));
          history.push(...step.ops);
          await merging;
        }
        expect(await snapshot(storage)).toEqual(modelState(history));
      }
      await storage.close();
      storage = await openLog(dir);
      expect(await snapshot(storage)).toEqual(modelState(history));
      expect(storage.stats().corruptRecords).toBe(0);
    } finally {
      await storage.close();
      await removeDir(dir);
    }
  },
);

test.prop(
  [
    fc.array(fc.record({ op: opArbitrary, durable: fc.boolean() }), {
      minLength: 1,
      maxLength: 25,
    }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }),
  ],
  { numRuns: 40 },
)(
  "a cut of the active segment at any byte reopens as a prefix of the history holding every fsynced write",
  async (writes, cuts) => {
    const dir = await makeTempDir();
    const storage = await openLog(dir, { segmentBytesMax: 1 << 20, syncIntervalMs: 60_000 });
    try {
      let durablePrefix = 0;
      for (const [index, write] of writes.entries()) {
        const result = await apply(storage, write.op, write.durable);
        if ((result as { durable: boolean }).durable) durablePrefix = index + 1;
      }
      const { activeBytes, activeSyncedBytes } = storage.stats().details;
      const history = writes.map((write) => write.op);
      const prefixes = history.map((_, index) => modelState(history.slice(0, index + 1)));
      prefixes.unshift(modelState([]));
      for (const cut of cuts) {
        const offset = Math.floor(cut * (activeBytes as number));
        const state = await reopenCutCopy(dir, offset);
        const matching = prefixes
          .map((prefix, length) => ({ prefix, length }))
          .filter(({ prefix }) => isEqual(prefix, state.entries));
        expect(matching.length).toBeGreaterThan(0);
        expect(state.corruptRecords).toBe(0);
        if (offset >= (activeSyncedBytes as number)) {
          expect(Math.max(...matching.map(({ length }) => length))).toBeGreaterThanOrEqual(
            durablePrefix,
          );
        }
      }
    } finally {
      await storage.close();
      await removeDir(dir);
    }
  },
);

/** Copies the engine's files, cuts the newest segment of the copy at `offset`, reopens it. */
async function reopenCutCopy(
  dir: string,
  offset: number,
): Promise<{ entries: Record<string, string>; corruptRecords: number }> {
  const copy = await makeTempDir();
  try {
    for (const name of await fs.readdir(dir))
      await fs.copyFile(path.join(dir, name), path.join(copy, name));
    const newest = (await segmentFiles(copy)).at(-1) as string;
    await fs.truncate(newest, offset);
    const reopened = await openLog(copy);
    const entries = await snapshot(reopened);
    const { corruptRecords } = reopened.stats();
    await reopened.close();
    return { entries, corruptRecords };
  } finally {
    await removeDir(copy);
  }
}

function isEqual(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
