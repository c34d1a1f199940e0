// A MembershipView that follows a MetadataStore, for the tests of loops that read the layout
// (transfer-loop.test.ts, leave-drain.test.ts): node `self`, believing `up` alive.

import { ringsOf } from "../../../../node/core/layout.js";
import type { NodeId } from "../../../../node/core/node-id.js";
import type { MembershipView } from "../../../../node/membership/membership-view.js";
import type { MetadataStore } from "../../../../node/membership/metadata-store.js";

export function storeView(
  metadata: MetadataStore,
  self: NodeId,
  up: ReadonlySet<NodeId>,
): MembershipView {
  return {
    self,
    get ring() {
      return ringsOf(metadata.current.layout).current;
    },
    get previousRing() {
      return ringsOf(metadata.current.layout).previous;
    },
    get layout() {
      return metadata.current.layout;
    },
    upNodes: () => up,
    onLayoutChange: () => () => undefined,
  };
}
