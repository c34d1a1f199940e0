// The call guard's view of users, tokens and grants: the access component of the cluster
// metadata this node holds now (node/core/access.ts), so a grant, a revoke or a removed user
// gossiped in applies to the next call. The bootstrap admin (the `admin` client certificate
// `dkv cluster up` makes) may do everything, as Cassandra's default superuser.

import type { Access, Permission } from "../core/access.js";
import { authorize } from "../core/authorize.js";
import type { AccessCheck, TokenOutcome } from "./call-guard.js";
import { TokenVerifier } from "./tokens.js";

/** The user whose client certificate `dkv cluster up` issues: every permission. */
export const BOOTSTRAP_ADMIN = "admin";

/** Checks callers against `current()`, the access component of the metadata held now. */
export function metadataAccess(
  current: () => Access,
  verifier: TokenVerifier = new TokenVerifier(),
): AccessCheck {
  return {
    async userOfToken(token: string, address: string): Promise<TokenOutcome> {
      const checked = await verifier.check(current(), token, address);
      if (checked.ok) return { user: checked.user };
      return {
        refused:
          checked.reason === "throttled"
            ? `too many failed token checks from ${address}; try again in a second`
            : "unknown or revoked token",
      };
    },
    refusal(user: string, permission: Permission, bucket: string | undefined) {
      if (user === BOOTSTRAP_ADMIN) return undefined;
      const decision = authorize(current(), { kind: "user", user }, permission, bucket);
      return decision.allowed ? undefined : decision.reason;
    },
  };
}
