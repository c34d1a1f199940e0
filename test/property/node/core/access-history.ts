// Random changes to the access component for property tests: x picks the change, y the user,
// the permission and the bucket, from small pools so that changes collide on one user.

import {
  type Access,
  type Grant,
  type Permission,
  addUser,
  grantPermission,
  removeUser,
  revokePermission,
  setTokenHashes,
} from "../../../../node/core/access.js";

export const USERS = ["alice", "bob", "carol", "dave"] as const;
export const BUCKETS = ["a", "b", "*"] as const;
export const PERMISSIONS: readonly Permission[] = ["read", "write", "delete", "admin"];

/** A well-formed token hash (parseTokenHash accepts it); `seed` varies its salt and hash. */
export function fakeTokenHash(seed: number): string {
  const letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[seed % 26]!;
  return `scrypt$1024$8$1$${letter.repeat(22)}$${String(seed % 10).repeat(43)}`;
}

/** The grant y picks. */
export function grantOf(y: number): Grant {
  const permission = PERMISSIONS[Math.floor(y / 4) % 4]!;
  if (permission === "admin") return { permission };
  return { permission, bucket: BUCKETS[Math.floor(y / 16) % 3]! };
}

/** One change x picks to the user y picks; a refused change (LayoutError) throws. */
export function changeAccess(access: Access, x: number, y: number): Access {
  const user = USERS[y % USERS.length]!;
  switch (x % 6) {
    case 0:
      return addUser(access, user, [fakeTokenHash(x)]);
    case 1:
      return removeUser(access, user);
    case 2:
    case 3:
      return grantPermission(access, user, grantOf(y));
    case 4:
      return revokePermission(access, user, grantOf(y));
    default:
      return setTokenHashes(access, user, [fakeTokenHash(x), fakeTokenHash(y)]);
  }
}
