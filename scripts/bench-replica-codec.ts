// The replica stream's codec against proto-loader's reflection codec (issue 16; not a test): CPU
// per message to encode and decode typical call and reply batches (1 and 100 puts or gets of
// 1 KiB objects), the two codecs alternated in one process, best of --rounds.
// Run: npx tsx scripts/bench-replica-codec.ts [--rounds 5]

import { loadProto } from "../proto/load-proto.js";
import {
  decodeCallBatch,
  decodeReplyBatch,
  encodeCallBatch,
  encodeReplyBatch,
} from "../node/wire/replica-stream-codec.js";

const stream = loadProto().grpcObject.dkv.v1.Replica.service.Stream;
const roundsIndex = process.argv.indexOf("--rounds");
const rounds = roundsIndex < 0 ? 5 : Number(process.argv[roundsIndex + 1]);
const object = Buffer.alloc(1100, 7);
const key = Buffer.from("user4812763019");
const deadline = Date.now() + 5000;

function putCalls(count: number) {
  return {
    calls: Array.from({ length: count }, (_, index) => ({
      id: 1_000_000 + index,
      deadline_ms: deadline,
      put: {
        bucket: "default",
        key,
        object,
        durable: false,
        reason: "REPLICA_PUT_REASON_WRITE" as const,
        hint_for: "",
      },
    })),
  };
}
function getReplies(count: number) {
  return {
    replies: Array.from({ length: count }, (_, index) => ({
      id: 1_000_000 + index,
      get: { found: true, object, same: false },
    })),
  };
}

/** µs of CPU per call of `work`, over about 200 ms. */
function cost(work: () => unknown): number {
  let calls = 0;
  const start = process.cpuUsage();
  const startMs = performance.now();
  while (performance.now() - startMs < 200) {
    for (let index = 0; index < 50; index++) work();
    calls += 50;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

for (const count of [1, 100]) {
  const calls = putCalls(count);
  const replies = getReplies(count);
  const callBytes = stream.requestSerialize(calls);
  const replyBytes = stream.responseSerialize(replies);
  const cases: [string, () => unknown, () => unknown][] = [
    ["encode put calls", () => stream.requestSerialize(calls), () => encodeCallBatch(calls)],
    [
      "decode put calls",
      () => stream.requestDeserialize(callBytes),
      () => decodeCallBatch(callBytes),
    ],
    [
      "encode get replies",
      () => stream.responseSerialize(replies),
      () => encodeReplyBatch(replies),
    ],
    [
      "decode get replies",
      () => stream.responseDeserialize(replyBytes),
      () => decodeReplyBatch(replyBytes),
    ],
  ];
  for (const [name, reflection, handWritten] of cases) {
    let best = [Infinity, Infinity];
    for (let round = 0; round < rounds; round++) {
      best = [Math.min(best[0]!, cost(reflection)), Math.min(best[1]!, cost(handWritten))];
    }
    const [before = 0, after = 0] = best;
    console.log(
      `${name} ×${count}: reflection ${before.toFixed(2)} µs, hand-written ${after.toFixed(2)} µs per message (${(before / after).toFixed(1)}×)`,
    );
  }
}
