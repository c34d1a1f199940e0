// What dkv's certificates name and how long they live: the URI SAN forms of nodes and users, the
// names and hosts a certificate may carry, validity periods. Pure and light: the commands and the
// server read these rules without loading the X.509 library that makes certificates.

import { isIP } from "node:net";

/** The URI SAN prefix that names a node: `dkv:node:n1`. */
export const NODE_URI_PREFIX = "dkv:node:";
/** The URI SAN prefix that names a user: `dkv:user:alice`. */
export const USER_URI_PREFIX = "dkv:user:";

/** Days a cluster CA is valid by default: it outlives every certificate it issues. */
export const CA_VALID_DAYS_DEFAULT = 3650;
/** Days a node or client certificate is valid by default; rotation replaces it sooner. */
export const LEAF_VALID_DAYS_DEFAULT = 365;
/** The longest validity accepted for any certificate: a bound, not a policy. */
export const VALID_DAYS_MAX = 36500;

/** 1..64 characters of `[A-Za-z0-9_.@-]`: safe in a URI, a file name, a log line. */
export function isValidUserName(name: string): boolean {
  return /^[A-Za-z0-9_.@-]{1,64}$/.test(name);
}

/**
 * True for an IP address or a DNS name of letters, digits and hyphens (no wildcards): what a
 * node certificate may carry as a host.
 */
export function isValidHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  const label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  return host.length <= 253 && new RegExp(`^${label}(\\.${label})*$`).test(host);
}
