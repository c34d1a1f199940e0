// Property tests of the coordinator's quorum cores over random configs, targets and reply
// orders. The oracles are brute force: "could the put still succeed?" is answered by trying
// every way the silent targets could reply, not by the counting shortcut the machines use.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import {
  GetQuorum,
  type GetVerdict,
  type ReadReply,
} from "../../../../coordinator/core/get-quorum.js";
import {
  PutQuorum,
  type PutVerdict,
  type WriteReply,
} from "../../../../coordinator/core/put-quorum.js";
import {
  DEFAULT_BUCKET,
  resolveQuorum,
  type QuorumRequest,
  type QuorumValue,
} from "../../../../coordinator/core/quorum-options.js";
import { planReadRepair } from "../../../../coordinator/core/read-repair.js";

const RUNS = 200;

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

function nodeName(index: number): string {
  return `node-${index}`;
}

/** Every way `count` silent targets could reply, each from `options` (|options|^count ways). */
function* completions<K>(options: readonly K[], count: number): Generator<K[]> {
  if (count === 0) {
    yield [];
    return;
  }
  for (const rest of completions(options, count - 1)) {
    for (const option of options) yield [option, ...rest];
  }
}

/** A random targets list, one outcome per target, a reply order and maybe a deadline. */
function scenario<K>(outcome: fc.Arbitrary<K>, nMax: number) {
  return fc.integer({ min: 0, max: nMax }).chain((count) =>
    fc.record({
      primaries: fc.array(fc.boolean(), { minLength: count, maxLength: count }),
      outcomes: fc.array(outcome, { minLength: count, maxLength: count }),
      order: fc.shuffledSubarray(range(count), { minLength: count, maxLength: count }),
      timeoutAfter: fc.option(fc.integer({ min: 0, max: count }), { nil: undefined }),
    }),
  );
}

// --- PutQuorum ------------------------------------------------------------------------------

/** "refuse" is a limit refusal: a failure that makes a failed put an over-limit one. */
type WriteOutcome = "durable" | "ack" | "fail" | "refuse";

const putCase = fc
  .integer({ min: 1, max: 5 })
  .chain((n) => fc.record({ n: fc.constant(n), w: fc.integer({ min: 1, max: n }) }))
  .chain(({ n, w }) =>
    fc.record({
      config: fc.record({
        n: fc.constant(n),
        w: fc.constant(w),
        dw: fc.integer({ min: 0, max: w }),
        pw: fc.integer({ min: 0, max: n }),
      }),
      run: scenario<WriteOutcome>(fc.constantFrom("durable", "ack", "fail", "refuse"), n + 1),
    }),
  );

type PutConfig = { n: number; w: number; dw: number; pw: number };
type PutCondition = "pw" | "w" | "dw";

function putCounts(primaries: readonly boolean[], replies: readonly [number, WriteOutcome][]) {
  let acks = 0;
  let durableAcks = 0;
  let primaryAcks = 0;
  for (const [target, outcome] of replies) {
    if (outcome === "fail" || outcome === "refuse") continue;
    acks += 1;
    if (outcome === "durable") durableAcks += 1;
    if (primaries[target] === true) primaryAcks += 1;
  }
  return { acks, durableAcks, primaryAcks };
}

function putHolds(config: PutConfig, counts: ReturnType<typeof putCounts>, only?: PutCondition) {
  const pw = counts.primaryAcks >= config.pw;
  const w = counts.acks >= config.w;
  const dw = counts.durableAcks >= config.dw;
  if (only !== undefined) return { pw, w, dw }[only];
  return pw && w && dw;
}

/** What the verdict must be after `delivered`: ok, a failure reason, or pending. */
function expectedPut(
  config: PutConfig,
  primaries: readonly boolean[],
  delivered: readonly [number, WriteOutcome][],
  silent: readonly number[],
): string {
  if (putHolds(config, putCounts(primaries, delivered))) return "ok";
  const possible = (only?: PutCondition): boolean => {
    for (const guess of completions<WriteOutcome>(["durable", "ack", "fail"], silent.length)) {
      const all = [...delivered, ...silent.map((t, i) => [t, guess[i]] as [number, WriteOutcome])];
      if (putHolds(config, putCounts(primaries, all), only)) return true;
    }
    return false;
  };
  if (possible()) return "pending";
  if (delivered.some(([, outcome]) => outcome === "refuse")) return "over-limit";
  if (!possible("pw")) return "primary-quorum-unreachable";
  if (!possible("w")) return "write-quorum-unreachable";
  if (!possible("dw")) return "durable-quorum-unreachable";
  return "oracle: impossible overall but each condition possible";
}

function putStatus(verdict: PutVerdict): string {
  return verdict.status === "failed" ? verdict.reason : verdict.status;
}

const WRITE_REPLIES: Record<WriteOutcome, WriteReply> = {
  durable: { ok: true, durable: true },
  ack: { ok: true, durable: false },
  fail: { ok: false, error: "injected" },
  refuse: { ok: false, error: "too many siblings: injected", overLimit: true },
};

test.prop([putCase], { numRuns: RUNS })(
  "PutQuorum decides ok exactly when the counts first meet w, dw and pw, fails exactly when " +
    "no completion could, and never changes a decided verdict",
  ({ config, run }) => {
    const targets = run.primaries.map((primary, index) => ({ node: nodeName(index), primary }));
    const quorum = new PutQuorum({ config, targets });
    let decided: PutVerdict | undefined;
    const delivered: [number, WriteOutcome][] = [];
    for (let step = 0; step <= run.order.length; step += 1) {
      if (step > 0) {
        const target = run.order[step - 1] ?? -1;
        const outcome = run.outcomes[target] ?? "fail";
        delivered.push([target, outcome]);
        quorum.onReply(nodeName(target), WRITE_REPLIES[outcome]);
      }
      const verdict = quorum.verdict;
      if (decided !== undefined) {
        expect(verdict).toBe(decided);
      } else {
        const silent = run.order.slice(step);
        const expected = expectedPut(config, run.primaries, delivered, silent);
        expect(putStatus(verdict)).toBe(expected);
        if (verdict.status !== "pending") {
          decided = verdict;
          const counts = putCounts(run.primaries, delivered);
          expect(verdict.counts).toMatchObject({ ...counts, pending: silent.length });
        }
      }
      if (run.timeoutAfter === step) {
        const after = quorum.onTimeout();
        expect(putStatus(after)).toBe(decided === undefined ? "timeout" : putStatus(decided));
        break;
      }
    }
    expect(quorum.complete).toBe(true);
    if (run.timeoutAfter === undefined) expect(quorum.verdict.status).not.toBe("pending");
  },
);

// --- GetQuorum ------------------------------------------------------------------------------

type ReadOutcome = { found: number | undefined } | "fail";

const getCase = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({
    config: fc.record({
      n: fc.constant(n),
      r: fc.integer({ min: 1, max: n }),
      pr: fc.integer({ min: 0, max: n }),
    }),
    run: scenario<ReadOutcome>(
      fc.oneof(
        fc.constant<ReadOutcome>("fail"),
        fc.record({ found: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }) }),
      ),
      n + 1,
    ),
  }),
);

type GetConfig = { n: number; r: number; pr: number };

/** Whether r and pr hold when the targets in `answered` replied (without error). */
function getHolds(config: GetConfig, primaries: readonly boolean[], answered: readonly number[]) {
  const primaryReplies = answered.filter((target) => primaries[target] === true).length;
  return {
    pr: primaryReplies >= config.pr,
    r: answered.length >= config.r,
  };
}

function expectedGet(
  config: GetConfig,
  primaries: readonly boolean[],
  delivered: readonly [number, ReadOutcome][],
  silent: readonly number[],
): string {
  const answered = delivered.filter(([, outcome]) => outcome !== "fail").map(([t]) => t);
  const now = getHolds(config, primaries, answered);
  if (now.pr && now.r) return "ok";
  let possible = false;
  let prPossible = false;
  for (const guess of completions([true, false], silent.length)) {
    const extra = silent.filter((_, index) => guess[index] === true);
    const then = getHolds(config, primaries, [...answered, ...extra]);
    possible ||= then.pr && then.r;
    prPossible ||= then.pr;
  }
  if (possible) return "pending";
  return prPossible ? "read-quorum-unreachable" : "primary-read-quorum-unreachable";
}

function readReply(outcome: ReadOutcome): ReadReply<number> {
  if (outcome === "fail") return { ok: false, error: "injected" };
  return { ok: true, object: outcome.found };
}

test.prop([getCase], { numRuns: RUNS })(
  "GetQuorum decides exactly when r and pr are first met or become unreachable, and answers " +
    "the merge of the objects received up to that moment",
  ({ config, run }) => {
    const targets = run.primaries.map((primary, index) => ({ node: nodeName(index), primary }));
    const quorum = new GetQuorum<number>({ config, targets, merge: Math.max });
    let decided: GetVerdict<number> | undefined;
    const delivered: [number, ReadOutcome][] = [];
    for (let step = 0; step <= run.order.length; step += 1) {
      if (step > 0) {
        const target = run.order[step - 1] ?? -1;
        const outcome = run.outcomes[target] ?? "fail";
        delivered.push([target, outcome]);
        quorum.onReply(nodeName(target), readReply(outcome));
      }
      const verdict = quorum.verdict;
      if (decided !== undefined) {
        expect(verdict).toBe(decided);
      } else {
        const expected = expectedGet(config, run.primaries, delivered, run.order.slice(step));
        expect(verdict.status === "failed" ? verdict.reason : verdict.status).toBe(expected);
        if (verdict.status === "ok") {
          const found = delivered.flatMap(([, o]) => (o === "fail" ? [] : [o.found]));
          const values = found.filter((value): value is number => value !== undefined);
          expect(verdict.object).toBe(values.length === 0 ? undefined : Math.max(...values));
        }
        if (verdict.status !== "pending") decided = verdict;
      }
      if (run.timeoutAfter === step) {
        const after = quorum.onTimeout();
        expect(after.status === "failed" ? after.reason : after.status).toBe(
          decided === undefined ? "timeout" : decided.status === "failed" ? decided.reason : "ok",
        );
        break;
      }
    }
    const expectedReplies = delivered.map(([target, outcome]) => ({
      node: nodeName(target),
      primary: run.primaries[target],
      reply: readReply(outcome),
    }));
    expect(quorum.replies()).toEqual(expectedReplies);
    expect(quorum.complete).toBe(true);
  },
);

// --- planReadRepair -------------------------------------------------------------------------

type Digits = ReadonlySet<number>;

const repairReplies = fc
  .uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 6 })
  .chain((nodes) =>
    fc.tuple(
      ...nodes.map((node) =>
        fc.record({
          node: fc.constant(nodeName(node)),
          primary: fc.boolean(),
          reply: fc.oneof(
            fc.constant<ReadReply<Digits>>({ ok: false, error: "injected" }),
            fc.constant<ReadReply<Digits>>({ ok: true, object: undefined }),
            fc
              .uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 })
              .map((digits): ReadReply<Digits> => ({ ok: true, object: new Set(digits) })),
          ),
        }),
      ),
    ),
  );

function union(a: Digits, b: Digits): Digits {
  return new Set([...a, ...b]);
}

function same(a: Digits, b: Digits): boolean {
  return a.size === b.size && [...a].every((digit) => b.has(digit));
}

test.prop([repairReplies, fc.nat()], { numRuns: RUNS })(
  "planReadRepair names exactly the stale primaries, never a fallback or a failed replica, " +
    "whatever the reply order",
  (replies, seed) => {
    const plan = planReadRepair({ replies, merge: union, same });
    const found = replies.flatMap(({ reply }) => (reply.ok && reply.object ? [reply.object] : []));
    const merged = found.length === 0 ? undefined : found.reduce(union);
    expect(plan.object === undefined ? undefined : [...plan.object].sort()).toEqual(
      merged === undefined ? undefined : [...merged].sort(),
    );
    for (const { node, primary, reply } of replies) {
      const named = plan.targets.includes(node);
      if (!primary || !reply.ok || merged === undefined) {
        expect(named, `${node} must not be repaired`).toBe(false);
      } else {
        const stale = reply.object === undefined || !same(reply.object, merged);
        expect(named, `${node} stale=${stale}`).toBe(stale);
      }
    }
    expect(new Set(plan.targets).size).toBe(plan.targets.length);
    // The reply order must not matter: rotate the list and plan again.
    const shift = replies.length === 0 ? 0 : seed % replies.length;
    const rotated = [...replies.slice(shift), ...replies.slice(0, shift)];
    const again = planReadRepair({ replies: rotated, merge: union, same });
    expect([...again.targets].sort()).toEqual([...plan.targets].sort());
  },
);

// --- resolveQuorum --------------------------------------------------------------------------

const quorumValue: fc.Arbitrary<QuorumValue> = fc.oneof(
  fc.constantFrom<QuorumValue>(
    { kind: "default" },
    { kind: "one" },
    { kind: "quorum" },
    { kind: "all" },
  ),
  fc.integer({ min: -1, max: 6 }).map((count): QuorumValue => ({ kind: "count", count })),
);

/** The number `value` stands for, following request → bucket → built-in defaults. */
function oracleNumber(field: keyof typeof DEFAULT_BUCKET, chain: QuorumValue[], n: number): number {
  const value = chain.find((candidate) => candidate.kind !== "default");
  if (value === undefined) throw new Error(`no concrete value for ${field}`);
  if (value.kind === "count") return value.count;
  return { one: 1, quorum: Math.floor(n / 2) + 1, all: n, default: NaN }[value.kind];
}

/** The first field out of range (DESIGN §2), or undefined when the request is valid. */
function oracleFirstBad(request: QuorumRequest, bucketN: number, bucket: QuorumRequest) {
  const n = request.n === 0 ? bucketN : request.n;
  if (n < 1 || n > bucketN) return "n";
  const fields = ["r", "w", "dw", "pr", "pw"] as const;
  const value = Object.fromEntries(
    fields.map((f) => [f, oracleNumber(f, [request[f], bucket[f], DEFAULT_BUCKET[f]], n)]),
  ) as Record<(typeof fields)[number], number>;
  const inRange: Record<(typeof fields)[number], boolean> = {
    r: value.r >= 1 && value.r <= n,
    w: value.w >= 1 && value.w <= n,
    dw: value.dw >= 0 && value.dw <= value.w,
    pr: value.pr >= 0 && value.pr <= n,
    pw: value.pw >= 0 && value.pw <= n,
  };
  return fields.find((field) => !inRange[field]);
}

const quorumRequest = fc.record({
  n: fc.integer({ min: -1, max: 6 }),
  r: quorumValue,
  w: quorumValue,
  dw: quorumValue,
  pr: quorumValue,
  pw: quorumValue,
});

test.prop([quorumRequest, quorumRequest, fc.integer({ min: 1, max: 5 })], { numRuns: RUNS })(
  "resolveQuorum accepts a request iff every field is in range, else names the first bad one",
  (request, bucketValues, bucketN) => {
    const bucket = { ...bucketValues, n: bucketN };
    const resolution = resolveQuorum(request, bucket);
    const firstBad = oracleFirstBad(request, bucketN, bucket);
    expect(resolution.ok ? undefined : resolution.field).toBe(firstBad);
    if (!resolution.ok) {
      expect(resolution.message).toMatch(new RegExp(`^${resolution.field}[ =]`));
      return;
    }
    const { n, r, w } = resolution.config;
    // Majority quorums intersect: a quorum read sees at least one replica of a quorum write.
    if (request.r.kind === "quorum" && request.w.kind === "quorum") {
      expect(r + w).toBeGreaterThan(n);
    }
  },
);
