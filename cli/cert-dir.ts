// Where the dkv command keeps the cluster's certificates unless told otherwise, and the option
// that says so.

import path from "node:path";
import type { Argv } from "yargs";
import { DEFAULT_CLUSTER_DIR } from "./cluster-file.js";
import { VALID_DAYS_MAX } from "../node/security/certificate-policy.js";
import { UsageError } from "./usage.js";

/** The credentials directory of the local cluster (relative to the cwd). */
export const DEFAULT_CERT_DIR = path.join(DEFAULT_CLUSTER_DIR, "certs");

/** The options every `dkv cert` command takes. */
export interface CertDirArgs {
  dir: string;
  days?: number;
}

/** Adds --dir and --days. */
export function withCertDirOptions(yargs: Argv): Argv<CertDirArgs> {
  return yargs
    .option("dir", {
      type: "string",
      default: DEFAULT_CERT_DIR,
      describe: "The credentials directory: ca.crt, ca.key, node-<id>.*, client-<name>.*",
    })
    .option("days", {
      type: "number",
      describe: "Days the certificate is valid",
    }) as Argv<CertDirArgs>;
}

/** --days as a whole number of days, or undefined for the default. */
export function daysOf(args: CertDirArgs): number | undefined {
  const days = args.days;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > VALID_DAYS_MAX)) {
    throw new UsageError(`--days must be a whole number from 1 to ${VALID_DAYS_MAX}, got ${days}`);
  }
  return days;
}
