// Every engine behind the Storage port against the memory model (issue #3: every storage test
// runs against every engine): any history of concurrent puts and removes, durable or not, with
// reopens in between for the engines that persist, reads back as the model, key by key and
// through entries().

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import type { Storage } from "../../../../node/storage/storage.js";
import {
  ENGINE_FACTORIES,
  hex,
  makeTempDir,
  modelOpArbitrary,
  modelState,
  removeDir,
  snapshot,
  type ModelOp,
} from "../../../unit/node/storage/storage-test-helpers.js";

const opArbitrary = modelOpArbitrary({ keys: 10, objectBytesMax: 200 });

type Step =
  | { readonly kind: "writes"; readonly ops: ModelOp[]; readonly durable: boolean }
  | { readonly kind: "reopen" };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("writes" as const),
      ops: fc.array(opArbitrary, { maxLength: 12 }),
      durable: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

function apply(storage: Storage, op: ModelOp, durable: boolean): Promise<unknown> {
  return op.kind === "put"
    ? storage.put(op.bucket, op.key, op.object, { durable })
    : storage.remove(op.bucket, op.key, { durable });
}

describe.each(ENGINE_FACTORIES)("$name engine", (factory) => {
  test.prop([fc.array(stepArbitrary, { minLength: 1, maxLength: 8 })], { numRuns: 25 })(
    "any history of concurrent puts and removes (and reopens) reads back as the model",
    async (steps) => {
      const dir = await makeTempDir();
      let storage = factory.create(dir);
      await storage.open();
      try {
        const history: ModelOp[] = [];
        for (const step of steps) {
          if (step.kind === "reopen") {
            if (!factory.persistent) continue;
            await storage.close();
            storage = factory.create(dir);
            await storage.open();
          } else {
            // Writes to one key issued together apply in call order (the port's contract).
            await Promise.all(step.ops.map((op) => apply(storage, op, step.durable)));
            history.push(...step.ops);
          }
          const model = modelState(history);
          expect(await snapshot(storage)).toEqual(model);
          for (const op of step.kind === "writes" ? step.ops : []) {
            const stored = await storage.get(op.bucket, op.key);
            expect(hex(stored)).toBe(model[`${op.bucket}/${hex(op.key)}`] ?? "absent");
          }
        }
      } finally {
        await storage.close();
        await removeDir(dir);
      }
    },
  );
});
