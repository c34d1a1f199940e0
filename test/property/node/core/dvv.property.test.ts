import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  type CausalContext,
  type Dot,
  EMPTY_CONTEXT,
  compareDots,
  contextAdd,
  contextCovers,
  contextEquals,
  dotKey,
} from "../../../../node/core/causal-context.js";
import {
  type DvvSet,
  EMPTY_DVV_SET,
  dvvEquals,
  join,
  retract,
  sync,
  update,
  values,
} from "../../../../node/core/dvv.js";
import { encodeContext, encodeObject } from "../../../../node/core/object-codec.js";
import { decodeContext, decodeObject } from "../../../../node/core/object-decode.js";

// Reachable states come from simulated histories: 2-4 replicas (one actor each), clients that
// read (through one replica or a coordinator merging several), write through any replica with
// a context they hold (or none), and replicas that sync. The model keeps every write with the
// context it carried, so the expected siblings can be computed without the DVV code.

const ACTORS = ["node-a", "node-b", "nöde-c", "node-d"];
const RUNS = { numRuns: 200 };

type Op =
  | { readonly kind: "read"; readonly replicas: number }
  | {
      readonly kind: "write";
      readonly replica: number;
      readonly context: number | null;
      readonly deleted: boolean;
    }
  | { readonly kind: "sync"; readonly from: number; readonly to: number; readonly both: boolean };

interface History {
  readonly replicaCount: number;
  readonly ops: readonly Op[];
}

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant("read"), replicas: fc.integer({ min: 1, max: 15 }) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("write"),
      replica: fc.nat(3),
      context: fc.option(fc.nat(), { nil: null, freq: 4 }),
      deleted: fc.boolean(),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("sync"),
      from: fc.nat(3),
      to: fc.nat(3),
      both: fc.boolean(),
    }),
    weight: 2,
  },
);

const historyArbitrary: fc.Arbitrary<History> = fc.record({
  replicaCount: fc.integer({ min: 2, max: 4 }),
  ops: fc.array(opArbitrary, { minLength: 1, maxLength: 40 }),
});

/** A context a client holds, and the siblings it saw if it came from a read. */
interface Held {
  readonly context: CausalContext;
  readonly readDots: readonly Dot[] | undefined;
}

interface WriteEvent {
  readonly stored: DvvSet;
  readonly held: Held;
  readonly dot: Dot;
  readonly result: DvvSet;
  /** All replicas synced together just before and just after the write. */
  readonly everythingBefore: DvvSet;
  readonly everythingAfter: DvvSet;
  /** The other replicas at the time of the write. */
  readonly others: readonly DvvSet[];
}

interface Run {
  readonly replicas: readonly DvvSet[];
  readonly states: readonly DvvSet[];
  readonly held: readonly Held[];
  readonly writes: readonly WriteEvent[];
}

function syncAll(objects: readonly DvvSet[]): DvvSet {
  return objects.reduce(sync, EMPTY_DVV_SET);
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item ${index} of ${items.length}`);
  return item;
}

interface Simulation extends Run {
  readonly replicas: DvvSet[];
  readonly states: DvvSet[];
  readonly held: Held[];
  readonly writes: WriteEvent[];
}

/** A client reads through a coordinator that merges the replicas in the bit mask. */
function read(sim: Simulation, mask: number): void {
  const chosen = sim.replicas.filter((_, index) => (mask >> index) & 1);
  const merged = syncAll(chosen.length > 0 ? chosen : [at(sim.replicas, 0)]);
  sim.held.push({ context: join(merged), readDots: values(merged).map((s) => s.dot) });
  sim.states.push(merged);
}

/** A client writes through `replica` with a context it holds (a recent one is likelier). */
function write(sim: Simulation, replica: number, choice: number | null, deleted: boolean): void {
  const held: Held =
    choice === null || sim.held.length === 0
      ? { context: EMPTY_CONTEXT, readDots: undefined }
      : at(sim.held, sim.held.length - 1 - (choice % sim.held.length));
  const stored = at(sim.replicas, replica);
  const everythingBefore = syncAll(sim.replicas);
  const n = sim.writes.length;
  const { object, dot } = update(stored, held.context, at(ACTORS, replica), {
    value: new TextEncoder().encode(`write ${n}`),
    contentType: "text/plain",
    metadata: n % 3 === 0 ? { "x-write": String(n) } : {},
    lastModifiedMs: 1_000 + n,
    deleted,
  });
  const others = sim.replicas.filter((_, index) => index !== replica);
  sim.replicas[replica] = object;
  // What the put returns without return_body: the context it carried plus its own dot.
  sim.held.push({ context: contextAdd(held.context, dot), readDots: undefined });
  sim.states.push(object);
  const everythingAfter = syncAll(sim.replicas);
  const result = object;
  sim.writes.push({ stored, held, dot, result, everythingBefore, everythingAfter, others });
}

function simulate(history: History): Run {
  const count = history.replicaCount;
  const sim: Simulation = {
    replicas: Array.from({ length: count }, () => EMPTY_DVV_SET),
    states: [EMPTY_DVV_SET],
    held: [],
    writes: [],
  };
  for (const op of history.ops) {
    if (op.kind === "read") read(sim, op.replicas);
    else if (op.kind === "write") write(sim, op.replica % count, op.context, op.deleted);
    else {
      const from = op.from % count;
      const to = op.to % count;
      const merged = sync(at(sim.replicas, to), at(sim.replicas, from));
      sim.replicas[to] = merged;
      if (op.both) sim.replicas[from] = sync(at(sim.replicas, from), merged);
      sim.states.push(merged);
    }
  }
  return sim;
}

function dotsOf(object: DvvSet): string[] {
  return object.siblings.map((s) => dotKey(s.dot));
}

function sortedKeys(dots: Iterable<Dot>): string[] {
  return [...dots].sort(compareDots).map(dotKey);
}

/** An independent check of the normal form and of the DvvSet invariant. */
function expectWellFormed(object: DvvSet): void {
  const { vv, cloud } = object.context;
  for (const counter of vv.values())
    expect(Number.isSafeInteger(counter) && counter >= 1).toBe(true);
  cloud.forEach((dot, index) => {
    const previous = cloud[index - 1];
    if (previous !== undefined) expect(compareDots(previous, dot)).toBeLessThan(0);
    expect(dot.counter).toBeGreaterThan((vv.get(dot.actor) ?? 0) + 1);
  });
  object.siblings.forEach((sibling, index) => {
    const previous = object.siblings[index - 1];
    if (previous !== undefined) expect(compareDots(previous.dot, sibling.dot)).toBeLessThan(0);
    expect(contextCovers(object.context, sibling.dot)).toBe(true);
  });
}

const pick = fc.tuple(fc.nat(), fc.nat(), fc.nat());

describe("sync() laws on reachable states", () => {
  test.prop([historyArbitrary, fc.array(pick, { minLength: 1, maxLength: 6 })], RUNS)(
    "is commutative, associative and idempotent",
    (history, picks) => {
      const { states } = simulate(history);
      for (const [i, j, k] of picks) {
        const a = at(states, i % states.length);
        const b = at(states, j % states.length);
        const c = at(states, k % states.length);
        const ab = sync(a, b);
        expectWellFormed(ab);
        expect(dvvEquals(ab, sync(b, a))).toBe(true);
        expect(ab).toEqual(sync(b, a));
        const left = sync(ab, c);
        const right = sync(a, sync(b, c));
        expect(dvvEquals(left, right)).toBe(true);
        expect(left).toEqual(right);
        expect(sync(a, a)).toEqual(a);
        expect(sync(ab, b)).toEqual(ab);
        expect(sync(a, EMPTY_DVV_SET)).toEqual(a);
      }
    },
  );

  test.prop([historyArbitrary], RUNS)(
    "is dominated by update: sync(o, update(o)) = update(o)",
    (history) => {
      for (const write of simulate(history).writes) {
        expectWellFormed(write.result);
        expect(sync(write.stored, write.result)).toEqual(write.result);
        expect(sync(write.result, write.stored)).toEqual(write.result);
      }
    },
  );
});

describe("a put with a get's context", () => {
  test.prop([historyArbitrary], RUNS)(
    "supersedes exactly the siblings the get returned, also after syncing everything",
    (history) => {
      for (const write of simulate(history).writes) {
        const covered = (dot: Dot) => contextCovers(write.held.context, dot);
        const kept = write.stored.siblings.map((s) => s.dot).filter((dot) => !covered(dot));
        expect(dotsOf(write.result)).toEqual(sortedKeys([...kept, write.dot]));
        const before = write.everythingBefore.siblings.map((s) => s.dot);
        const uncovered = before.filter((dot) => !covered(dot));
        expect(dotsOf(write.everythingAfter)).toEqual(sortedKeys([...uncovered, write.dot]));
        const readDots = write.held.readDots;
        if (readDots === undefined) continue;
        const returned = new Set(readDots.map(dotKey));
        const survivors = before.filter((dot) => !returned.has(dotKey(dot)));
        expect(dotsOf(write.everythingAfter)).toEqual(sortedKeys([...survivors, write.dot]));
        for (const other of write.others) {
          const merged = dotsOf(sync(write.result, other));
          expect(merged.filter((key) => returned.has(key))).toEqual([]);
          expect(merged).toContain(dotKey(write.dot));
        }
      }
    },
  );
});

describe("convergence", () => {
  test.prop([historyArbitrary], RUNS)(
    "leaves, once everything is synced, exactly the writes no write's context covered",
    (history) => {
      const run = simulate(history);
      const everything = syncAll(run.replicas);
      const contexts = run.writes.map((w) => w.held.context);
      const expected = run.writes
        .filter((w) => !contexts.some((context) => contextCovers(context, w.dot)))
        .map((w) => w.dot);
      expect(dotsOf(everything)).toEqual(sortedKeys(expected));
      for (const sibling of everything.siblings) {
        const write = run.writes.find((w) => compareDots(w.dot, sibling.dot) === 0);
        expect(sibling).toEqual(
          write?.result.siblings.find((s) => compareDots(s.dot, sibling.dot) === 0),
        );
      }
    },
  );

  test.prop(
    [
      fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }),
      fc.array(fc.nat(1), { minLength: 200, maxLength: 200 }),
    ],
    { numRuns: 100 },
  )(
    "keeps at most 2 siblings when two clients interleave 100 stale writes each through 2 replicas",
    (syncAfter, replicaOf) => {
      const replicas: DvvSet[] = [EMPTY_DVV_SET, EMPTY_DVV_SET];
      const contexts: CausalContext[] = [EMPTY_CONTEXT, EMPTY_CONTEXT];
      const last: Dot[] = [];
      for (let step = 0; step < 200; step++) {
        const client = step % 2;
        const replica = at(replicaOf, step);
        const clientContext = at(contexts, client);
        const version = {
          value: Uint8Array.of(step),
          contentType: "",
          metadata: {},
          lastModifiedMs: step,
          deleted: false,
        };
        const { object, dot } = update(
          at(replicas, replica),
          clientContext,
          at(ACTORS, replica),
          version,
        );
        replicas[replica] = object;
        contexts[client] = contextAdd(clientContext, dot);
        last[client] = dot;
        if (at(syncAfter, step)) {
          const merged = sync(at(replicas, 0), at(replicas, 1));
          replicas[0] = merged;
          replicas[1] = merged;
        }
        for (const r of replicas) expect(r.siblings.length).toBeLessThanOrEqual(2);
      }
      expect(dotsOf(syncAll(replicas))).toEqual(sortedKeys(last));
    },
  );
});

describe("object codec", () => {
  test.prop([historyArbitrary], RUNS)(
    "gives back every reachable object and context",
    (history) => {
      const run = simulate(history);
      for (const object of [...run.states, ...run.replicas]) {
        const bytes = encodeObject(object);
        expect(decodeObject(bytes)).toEqual({ ok: true, object });
      }
      for (const { context } of run.held) {
        const decoded = decodeContext(encodeContext(context));
        expect(decoded.ok && contextEquals(decoded.context, context)).toBe(true);
        expect(decoded).toEqual({ ok: true, context });
      }
    },
  );

  test.prop([fc.uint8Array({ maxLength: 64 }), fc.constantFrom([], [1], [1, 1], [1, 2])], {
    numRuns: 300,
  })("never throws on arbitrary bytes, and accepts only canonical encodings", (tail, head) => {
    const input = Uint8Array.from([...head, ...tail]);
    const object = decodeObject(input);
    if (object.ok) expect([...encodeObject(object.object)]).toEqual([...input]);
    const context = decodeContext(input);
    if (context.ok && input.length > 0)
      expect([...encodeContext(context.context)]).toEqual([...input]);
  });

  test.prop(
    [
      historyArbitrary,
      fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom("set", "cut", "insert")), {
        minLength: 1,
        maxLength: 4,
      }),
    ],
    RUNS,
  )(
    "never throws on damaged encodings of reachable objects, and accepts only canonical ones",
    (history, damage) => {
      const run = simulate(history);
      const original = encodeObject(syncAll(run.replicas));
      let bytes = [...original];
      for (const [position, value, how] of damage) {
        const index = position % (bytes.length + 1);
        if (how === "set") bytes[index] = value;
        else if (how === "cut") bytes = bytes.slice(0, index);
        else bytes.splice(index, 0, value);
      }
      const decoded = decodeObject(Uint8Array.from(bytes));
      if (decoded.ok) expect([...encodeObject(decoded.object)]).toEqual(bytes);
      else expect(decoded.reason).toMatch(/^[a-z0-9]/);
    },
  );
});

describe("retract()", () => {
  /** A dot some write of the run made (its siblings may be gone), or a dot never made. */
  function someDot(run: Run, choice: number): Dot {
    const write = run.writes[choice % (run.writes.length + 1)];
    return write?.dot ?? { actor: "node-z", counter: 1 + (choice % 3) };
  }

  test.prop([historyArbitrary, fc.array(pick, { minLength: 1, maxLength: 6 })], RUNS)(
    "removes the write and only it from any copy: sync(x, retract(o, d)) = retract(sync(x, o), d)",
    (history, picks) => {
      const run = simulate(history);
      const { states } = run;
      for (const [i, j, k] of picks) {
        const x = at(states, i % states.length);
        const o = at(states, j % states.length);
        const dot = someDot(run, k);
        const retracted = retract(o, dot);
        expectWellFormed(retracted);
        expect(contextCovers(retracted.context, dot)).toBe(true);
        expect(dotsOf(retracted)).toEqual(dotsOf(o).filter((key) => key !== dotKey(dot)));
        expect(retract(retracted, dot)).toEqual(retracted);
        const merged = sync(x, retracted);
        expectWellFormed(merged);
        expect(merged).toEqual(retract(sync(x, o), dot));
        expect(sync(retracted, x)).toEqual(merged);
        expect(dotsOf(merged)).not.toContain(dotKey(dot));
      }
    },
  );

  test.prop(
    [
      historyArbitrary,
      fc.nat(),
      fc.nat(),
      fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { maxLength: 12 }),
    ],
    RUNS,
  )(
    "wins wherever it meets a copy: after any syncs, everything merged lacks exactly the write",
    (history, choice, where, syncs) => {
      const run = simulate(history);
      const replicas = [...run.replicas];
      const count = replicas.length;
      const dot = someDot(run, choice);
      const everythingBefore = syncAll(replicas);
      const retractedAt = where % count;
      replicas[retractedAt] = retract(at(replicas, retractedAt), dot);
      // Anti-entropy and read repair between any replicas, in any order: a copy that has met
      // the retraction, directly or through others, never holds the write again.
      const met = replicas.map((_, index) => index === retractedAt);
      for (const [from, to] of syncs) {
        replicas[to % count] = sync(at(replicas, to % count), at(replicas, from % count));
        met[to % count] = met[to % count] === true || met[from % count] === true;
      }
      replicas.forEach((replica, index) => {
        if (met[index] === true) expect(dotsOf(replica)).not.toContain(dotKey(dot));
      });
      const everythingAfter = syncAll(replicas);
      expect(dotsOf(everythingAfter)).toEqual(
        dotsOf(everythingBefore).filter((key) => key !== dotKey(dot)),
      );
      expect(everythingAfter).toEqual(retract(everythingBefore, dot));
    },
  );

  it("takes back one of two concurrent writes and keeps the other", () => {
    const base = EMPTY_DVV_SET;
    const version = (text: string) => ({
      value: new TextEncoder().encode(text),
      contentType: "",
      metadata: {},
      lastModifiedMs: 1,
      deleted: false,
    });
    const a = update(base, EMPTY_CONTEXT, "node-a", version("a"));
    const b = update(base, EMPTY_CONTEXT, "node-b", version("b"));
    const both = sync(a.object, b.object);
    const taken = retract(a.object, a.dot);
    expect(taken.siblings).toEqual([]);
    expect(dotsOf(sync(both, taken))).toEqual([dotKey(b.dot)]);
    expect(retract(both, { actor: "node-c", counter: 9 }).siblings).toEqual(both.siblings);
  });
});
