import { describe, expect, it } from "vitest";
import {
  type CausalContext,
  type Dot,
  EMPTY_CONTEXT,
  contextAdd,
  contextCovers,
  contextFromDots,
} from "../../../../node/core/causal-context.js";
import {
  type DvvSet,
  type Version,
  EMPTY_DVV_SET,
  dvvEquals,
  join,
  liveValues,
  sync,
  update,
  values,
  vtag,
} from "../../../../node/core/dvv.js";
import { objectBytesEstimate, utf8ByteLength } from "../../../../node/core/object-bytes.js";

const encoder = new TextEncoder();

function version(text: string, deleted = false): Version {
  return {
    value: encoder.encode(text),
    contentType: "text/plain",
    metadata: {},
    lastModifiedMs: 1000,
    deleted,
  };
}

/** Siblings as "actor/counter=value" strings, in the object's order. */
function show(object: DvvSet): string[] {
  const decoder = new TextDecoder();
  return object.siblings.map((s) => `${s.dot.actor}/${s.dot.counter}=${decoder.decode(s.value)}`);
}

function put(stored: DvvSet, context: CausalContext, actor: string, text: string): DvvSet {
  return update(stored, context, actor, version(text)).object;
}

describe("update()", () => {
  it("gives the first write of a key the dot (actor, 1)", () => {
    const { object, dot } = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", version("v1"));
    expect(dot).toEqual({ actor: "a", counter: 1 });
    expect(show(object)).toEqual(["a/1=v1"]);
    expect(contextCovers(object.context, dot)).toBe(true);
  });

  it("keeps a blind write (empty context) as a sibling of what is stored", () => {
    const first = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "v1");
    expect(show(put(first, EMPTY_CONTEXT, "a", "v2"))).toEqual(["a/1=v1", "a/2=v2"]);
  });

  it("supersedes every sibling a write's context covers", () => {
    const first = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "v1");
    const second = put(first, EMPTY_CONTEXT, "b", "v2");
    expect(show(put(second, join(second), "a", "v3"))).toEqual(["a/2=v3"]);
  });

  it("supersedes only the covered sibling when the context covers (a,2) but not (a,1)", () => {
    const first = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "v1");
    const { object: second, dot } = update(first, EMPTY_CONTEXT, "a", version("v2"));
    const sawOnlySecond = contextFromDots([dot]);
    expect(show(put(second, sawOnlySecond, "a", "v3"))).toEqual(["a/1=v1", "a/3=v3"]);
  });

  it("numbers the dot past the client's context when the replica lost the key", () => {
    const clientContext = contextFromDots([{ actor: "a", counter: 5 }]);
    const { dot } = update(EMPTY_DVV_SET, clientContext, "a", version("v"));
    expect(dot).toEqual({ actor: "a", counter: 6 });
  });

  it("numbers the dot past the replica's cloud", () => {
    const stored: DvvSet = { context: contextFromDots([{ actor: "a", counter: 4 }]), siblings: [] };
    expect(update(stored, EMPTY_CONTEXT, "a", version("v")).dot.counter).toBe(5);
  });

  it("absorbs the client context, superseding siblings the replica has not seen yet", () => {
    const replicaA = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "v1");
    const readContext = join(replicaA);
    const replicaB = put(EMPTY_DVV_SET, readContext, "b", "v2");
    expect(show(replicaB)).toEqual(["b/1=v2"]);
    expect(show(sync(replicaA, replicaB))).toEqual(["b/1=v2"]);
    expect(show(sync(replicaB, replicaA))).toEqual(["b/1=v2"]);
  });

  it("keeps siblings sorted by dot when the new dot's actor sorts first", () => {
    const fromB = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "b", "v1");
    expect(show(put(fromB, EMPTY_CONTEXT, "a", "v2"))).toEqual(["a/1=v2", "b/1=v1"]);
  });

  it("does not change the stored object", () => {
    const stored = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "v1");
    put(stored, join(stored), "a", "v2");
    expect(show(stored)).toEqual(["a/1=v1"]);
  });

  it.each([
    ["an empty actor", "", version("v")],
    ["a negative timestamp", "a", { ...version("v"), lastModifiedMs: -1 }],
    ["a fractional timestamp", "a", { ...version("v"), lastModifiedMs: 1.5 }],
  ])("rejects %s", (_name, actor, bad) => {
    expect(() => update(EMPTY_DVV_SET, EMPTY_CONTEXT, actor, bad)).toThrow(/dvv:/);
  });
});

describe("sync()", () => {
  const a1 = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "x");
  const b1 = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "b", "y");
  const a2OverA1 = put(a1, join(a1), "a", "x2");
  const bothAtA = put(a1, EMPTY_CONTEXT, "a", "z");

  it.each<[string, DvvSet, DvvSet, string[]]>([
    ["keeps both siblings of concurrent writes", a1, b1, ["a/1=x", "b/1=y"]],
    ["drops a sibling the other side superseded", a1, a2OverA1, ["a/2=x2"]],
    ["keeps a sibling both sides hold once", bothAtA, a1, ["a/1=x", "a/2=z"]],
    ["is the identity with the empty object", bothAtA, EMPTY_DVV_SET, ["a/1=x", "a/2=z"]],
    [
      "keeps a newer write next to the other side's concurrent one",
      a2OverA1,
      b1,
      ["a/2=x2", "b/1=y"],
    ],
  ])("%s", (_name, left, right, expected) => {
    expect(show(sync(left, right))).toEqual(expected);
    expect(show(sync(right, left))).toEqual(expected);
  });

  it("joins the contexts", () => {
    const merged = sync(a2OverA1, b1);
    expect(contextCovers(merged.context, { actor: "a", counter: 1 })).toBe(true);
    expect(contextCovers(merged.context, { actor: "b", counter: 1 })).toBe(true);
  });

  it("keeps one copy, whichever side comes first, of a reused dot with two payloads", () => {
    const left = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "first life");
    const right = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "second life");
    expect(sync(left, right)).toEqual(sync(right, left));
    expect(show(sync(left, right))).toHaveLength(1);
  });
});

describe("join(), values() and liveValues()", () => {
  const live = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "v1");
  const withTombstone = update(live, EMPTY_CONTEXT, "b", version("", true)).object;

  it("hands the client a context that covers every sibling returned", () => {
    for (const sibling of values(withTombstone)) {
      expect(contextCovers(join(withTombstone), sibling.dot)).toBe(true);
    }
  });

  it("returns tombstones among values() but not among liveValues()", () => {
    expect(values(withTombstone).map((s) => s.deleted)).toEqual([false, true]);
    expect(liveValues(withTombstone).map((s) => s.dot.actor)).toEqual(["a"]);
  });

  it("reads a key whose only sibling is a tombstone as having no live value", () => {
    const deleted = update(live, join(live), "a", version("", true)).object;
    expect(values(deleted)).toHaveLength(1);
    expect(liveValues(deleted)).toHaveLength(0);
  });
});

describe("dvvEquals()", () => {
  const a1 = put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "x");

  it("compares dots, not payloads", () => {
    expect(dvvEquals(a1, put(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", "other"))).toBe(true);
  });

  it("tells apart objects with the same siblings but different contexts", () => {
    const wider: DvvSet = { ...a1, context: contextAdd(a1.context, { actor: "b", counter: 1 }) };
    expect(dvvEquals(a1, wider)).toBe(false);
  });

  it("tells apart objects with different siblings", () => {
    expect(dvvEquals(a1, put(a1, EMPTY_CONTEXT, "a", "y"))).toBe(false);
    expect(dvvEquals(a1, EMPTY_DVV_SET)).toBe(false);
  });
});

describe("vtag()", () => {
  it.each<[Dot, string]>([
    [{ actor: "node-a", counter: 1 }, "UO0SHqfAn1XUdqFi"],
    [{ actor: "node-a", counter: 2 }, "0_pswMjjAaEFTqOl"],
  ])("names %j as %s (sha256 of actor NUL counter, base64url, 16 chars)", (dot, expected) => {
    expect(vtag(dot)).toBe(expected);
  });

  it("differs between dots whose actor and counter run together", () => {
    expect(vtag({ actor: "a1", counter: 2 })).not.toBe(vtag({ actor: "a", counter: 12 }));
  });
});

describe("objectBytesEstimate() and utf8ByteLength()", () => {
  it("counts value, content type and metadata bytes of every sibling", () => {
    const v: Version = { ...version("abc"), metadata: { k: "é" } };
    const one = update(EMPTY_DVV_SET, EMPTY_CONTEXT, "a", v).object;
    const two = update(one, EMPTY_CONTEXT, "a", v).object;
    expect(objectBytesEstimate(EMPTY_DVV_SET)).toBe(0);
    expect(objectBytesEstimate(one)).toBe(3 + 10 + 1 + 2);
    expect(objectBytesEstimate(two)).toBe(2 * (3 + 10 + 1 + 2));
  });

  const texts = ["", "ascii", "é", "€", "😀", "a😀b€é", "\uFEFFbom", "\uD800 lone", "end \uDC00"];
  it.each(texts)("measures %j as Buffer.byteLength does", (text) => {
    expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, "utf8"));
  });
});

describe("sibling explosion (riak_test#383)", () => {
  /** Each client writes 100 times with the context its own previous write returned. */
  function interleave(replicaFor: (client: number) => number, syncEvery: number): DvvSet[] {
    const replicas: DvvSet[] = [EMPTY_DVV_SET, EMPTY_DVV_SET];
    const contexts: CausalContext[] = [EMPTY_CONTEXT, EMPTY_CONTEXT];
    const actors = ["a", "b"];
    let writes = 0;
    for (let round = 0; round < 100; round++) {
      for (const client of [0, 1]) {
        const index = replicaFor(client);
        const stored = replicas[index] ?? EMPTY_DVV_SET;
        const clientContext = contexts[client] ?? EMPTY_CONTEXT;
        const written = update(stored, clientContext, actors[index] ?? "", version(`c${client}`));
        replicas[index] = written.object;
        contexts[client] = contextAdd(clientContext, written.dot);
        writes += 1;
        if (writes % syncEvery === 0) {
          const merged = sync(replicas[0] ?? EMPTY_DVV_SET, replicas[1] ?? EMPTY_DVV_SET);
          replicas[0] = merged;
          replicas[1] = merged;
        }
        for (const replica of replicas) expect(replica.siblings.length).toBeLessThanOrEqual(2);
      }
    }
    return replicas;
  }

  it("leaves at most 2 siblings when two clients write 100 times each through one replica", () => {
    const [replica] = interleave(() => 0, Number.POSITIVE_INFINITY);
    expect(show(replica ?? EMPTY_DVV_SET)).toEqual(["a/199=c0", "a/200=c1"]);
  });

  it.each([1, 2, 3, 7])(
    "leaves at most 2 siblings through two replicas synced every %d writes",
    (syncEvery) => {
      const [left, right] = interleave((client) => client, syncEvery);
      const merged = sync(left ?? EMPTY_DVV_SET, right ?? EMPTY_DVV_SET);
      expect(show(merged)).toEqual(["a/100=c0", "b/100=c1"]);
    },
  );
});
