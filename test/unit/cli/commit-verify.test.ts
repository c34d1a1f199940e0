// What `dkv cluster commit` concludes from the layout a member holds: the committed one (same
// version and digest), a later version, one behind, or another layout of the committed version
// (a concurrent commit won); and the warnings it prints for members that did not confirm.

import { describe, expect, it } from "vitest";
import { checkMember, verificationWarnings } from "../../../cli/commit-verify.js";
import { initialMetadata, type Layout } from "../../../node/core/layout.js";
import { layoutDigest } from "../../../node/core/layout-codec.js";
import { commitStaged, stageChange } from "../../../node/core/layout-merge.js";
import { nodeId } from "../../../node/core/node-id.js";

const start = initialMetadata({
  members: ["n1", "n2", "n3"].map((id, i) => ({ node: nodeId(id), address: `h:${7001 + i}` })),
  partitionCount: 8,
  targetN: 3,
});
const joinOf = (id: string): Layout =>
  commitStaged(stageChange(start, { kind: "join", node: nodeId(id), address: "h:7100" })).layout;
const ours = joinOf("x1");
const theirs = joinOf("x2");

describe("checkMember", () => {
  it.each([
    ["the committed layout", ours, "same"],
    ["another layout of the same version", theirs, "other"],
    ["an older version", start.layout, "behind"],
    ["a later version", { ...ours, version: ours.version + 1 }, "later"],
  ] as const)("calls %s %s", (_name, held, state) => {
    expect(checkMember("n2", ours, held).state).toBe(state);
  });

  it("names the digest of the other layout", () => {
    expect(checkMember("n2", ours, theirs)).toEqual({
      node: "n2",
      state: "other",
      digest: layoutDigest(theirs),
    });
  });
});

describe("verificationWarnings", () => {
  it("warns about members behind or not asked, and nothing else", () => {
    const lines = verificationWarnings({
      digest: "d",
      checks: [
        { node: "n1", state: "same" },
        { node: "n2", state: "behind" },
        { node: "n3", state: "unreachable", reason: "connect ECONNREFUSED" },
        { node: "n4", state: "later" },
      ],
    });
    expect(lines).toEqual([
      "warning: n2 does not hold the new layout yet; gossip will bring it",
      "warning: n3 could not be asked (connect ECONNREFUSED); it was not verified",
    ]);
  });
});
