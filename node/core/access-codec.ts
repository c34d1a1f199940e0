// The access component of the cluster metadata as canonical JSON, and its decoder, which checks
// every field: the records come from disk and from peers. Pure. The metadata carries the field
// `access` only when there are users, so metadata from before users, and from a cluster that
// never adds one, keeps its bytes and digest (layout-codec.ts).

import {
  type Access,
  type Grant,
  type UserRecord,
  accessRecordsMax,
  canonicalGrant,
  checkGrant,
  checkUserName,
  compareGrants,
  grantsPerUserMax,
  parseTokenHash,
  tokensPerUserMax,
  userJson,
} from "./access.js";
import { fields, integer, list, prefixed, show } from "./json-fields.js";
import { LayoutError } from "./layout-error.js";

/** The records as plain objects in the canonical order: the value of the metadata's `access`. */
export function accessJson(access: Access): object[] {
  return access.users.map(userJson);
}

/**
 * Reads the value of the metadata's `access` field (undefined: no users). Throws a LayoutError
 * naming the first thing wrong: not a list, more than accessRecordsMax records, records not
 * sorted by user or repeating one, a missing or unknown field, a bad user name, revision, token
 * hash or grant, token hashes or grants unsorted, repeated or over their bound, or a removed
 * user that still holds tokens or grants.
 */
export function decodeAccess(value: unknown): Access {
  if (value === undefined) return { users: [] };
  const users = list(value, "access", accessRecordsMax).map(decodeRecord);
  const disorder = users.find(({ user }, i) => i > 0 && user <= users[i - 1]!.user);
  if (disorder !== undefined) {
    throw new LayoutError(`access is not sorted by user, each once (at ${disorder.user})`);
  }
  return { users };
}

const recordFields = ["user", "revision", "removed", "tokenHashes", "grants"];

function decodeRecord(value: unknown, i: number): UserRecord {
  const where = `access[${i}]`;
  const raw = fields(value, where, recordFields);
  prefixed(where, () => checkUserName(raw.user));
  const user = raw.user as string;
  const revision = integer(raw.revision, `${where}.revision`, 1);
  if (typeof raw.removed !== "boolean") {
    throw new LayoutError(`${where}.removed: want true or false, got ${show(raw.removed)}`);
  }
  const tokenHashes = list(raw.tokenHashes, `${where}.tokenHashes`, tokensPerUserMax).map(
    (hash, k) => {
      if (typeof hash !== "string" || parseTokenHash(hash) === undefined) {
        throw new LayoutError(
          `${where}.tokenHashes[${k}]: not a token hash scrypt$N$r$p$salt$hash`,
        );
      }
      return hash;
    },
  );
  if (tokenHashes.some((hash, k) => k > 0 && hash <= tokenHashes[k - 1]!)) {
    throw new LayoutError(`${where}.tokenHashes is not sorted and distinct`);
  }
  const grants = list(raw.grants, `${where}.grants`, grantsPerUserMax).map((grant, k) =>
    decodeGrant(grant, `${where}.grants[${k}]`),
  );
  if (grants.some((grant, k) => k > 0 && compareGrants(grant, grants[k - 1]!) <= 0)) {
    throw new LayoutError(`${where}.grants is not sorted and distinct`);
  }
  if (raw.removed && (tokenHashes.length > 0 || grants.length > 0)) {
    throw new LayoutError(`${where}: removed user ${user} still holds tokens or grants`);
  }
  return { user, revision, removed: raw.removed, tokenHashes, grants };
}

function decodeGrant(value: unknown, where: string): Grant {
  const raw = fields(value, where, ["permission", "bucket"], ["bucket"]);
  const grant = raw as unknown as Grant;
  prefixed(where, () => checkGrant(grant));
  return canonicalGrant(grant);
}
