// Shared by the KvService forwarding tests: four nodes, the preference list of a key seen from
// n4 (a fallback standing in for n3, with n1 and n2 up primaries), and a plain put request.

import type { PreferenceList } from "../../../coordinator/core/preference-list.js";
import { nodeId } from "../../../node/core/node-id.js";
import type { PutRequest__Output } from "../../../proto/generated/dkv/v1/PutRequest.js";

export const [n1, n2, n3, n4] = ["n1", "n2", "n3", "n4"].map(nodeId) as [
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
];

/** n4 is a fallback of a key whose primaries are n1..n3: it forwards to n1 and n2 first. */
export const FALLBACK_LIST = {
  primaries: [n1, n2, n3],
  targets: [
    { node: n1, role: "primary" },
    { node: n2, role: "primary" },
    { node: n4, role: "fallback", standsInFor: n3 },
  ],
  spares: [],
} as unknown as PreferenceList;

/** A put of "v" under "b"/"k" with no context and default options. */
export const PUT_REQUEST: PutRequest__Output = {
  bucket: "b",
  key: Buffer.from("k"),
  value: Buffer.from("v"),
  content_type: "",
  metadata: {},
  context: Buffer.alloc(0),
  options: null,
  return_body: false,
  if_none_match: false,
};
