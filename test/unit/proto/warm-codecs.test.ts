// Goal: warmCodecs runs every method's request and response codecs of dkv.proto at start
// without throwing, including messages nested in others, and leaves them working.
// Method: the real loaded definition; a Transfer.Fetch response (nested repeated messages)
// round-trips through the warmed codecs.

import { describe, expect, it } from "vitest";
import { loadProto, warmCodecs } from "../../../proto/load-proto.js";

describe("warmCodecs", () => {
  it("runs every method's codecs, and they still round-trip after", () => {
    const { definition } = loadProto();
    expect(() => warmCodecs(definition)).not.toThrow();
    // A second run finds every codec made already; it must not throw either.
    expect(() => warmCodecs(definition)).not.toThrow();
    const fetch = (definition["dkv.v1.Transfer"] as Record<string, any>)["Fetch"];
    const batch = {
      objects: [{ bucket: "b", key: Buffer.from("k"), object: Buffer.from([1, 2, 3]) }],
      leaf: 7,
    };
    const decoded = fetch.responseDeserialize(fetch.responseSerialize(batch));
    expect(decoded.leaf).toBe(7);
    expect(decoded.objects).toHaveLength(1);
    expect(Buffer.from(decoded.objects[0].object)).toEqual(Buffer.from([1, 2, 3]));
  });

  it("stops at a depth bound on a message that contains itself", () => {
    const selfNested = {
      format: "Protocol Buffers 3 DescriptorProto",
      type: {
        field: [{ name: "child", label: "LABEL_OPTIONAL", type: "TYPE_MESSAGE", typeName: "Node" }],
      },
    };
    const seen: unknown[] = [];
    const method = {
      requestType: selfNested,
      responseType: selfNested,
      requestSerialize: (value: unknown) => (seen.push(value), Buffer.alloc(0)),
      requestDeserialize: () => ({}),
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: () => ({}),
    };
    const definition = { "dkv.v1.Node": selfNested, "dkv.v1.Svc": { Call: method } };
    warmCodecs(definition as never);
    let depth = 0;
    for (let at = seen[0] as { child?: unknown }; at?.child !== undefined; depth++) {
      at = at.child as { child?: unknown };
    }
    expect(depth).toBe(7);
  });
});
