// `dkv cert init`: creates the cluster CA (a key and a self-signed certificate) in a credentials
// directory; it refuses to replace one without --force, since that would orphan every
// certificate the old CA issued.

import { existsSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { Argv, ArgumentsCamelCase } from "yargs";
import { CA_VALID_DAYS_DEFAULT } from "../../node/security/certificate-policy.js";
import { caFiles, writeCredential } from "../../node/security/credential-files.js";
import { daysOf, withCertDirOptions, type CertDirArgs } from "../cert-dir.js";
import { UsageError } from "../usage.js";

interface CertInitArgs extends CertDirArgs {
  force: boolean;
}

export const command = "init";
export const describe = "Create the cluster CA that signs node and client certificates";

export function builder(yargs: Argv): Argv<CertInitArgs> {
  return withCertDirOptions(yargs).option("force", {
    type: "boolean",
    default: false,
    describe: "Replace an existing CA: certificates it issued are no longer trusted",
  }) as Argv<CertInitArgs>;
}

export async function handler(args: ArgumentsCamelCase<CertInitArgs>): Promise<void> {
  const days = daysOf(args) ?? CA_VALID_DAYS_DEFAULT;
  const files = caFiles(args.dir);
  const existing = [files.certFile, files.keyFile].filter((file) => existsSync(file));
  if (existing.length > 0 && !args.force) {
    throw new UsageError(
      `a CA already exists (${existing.join(", ")}); --force replaces it, and every ` +
        "certificate it issued stops being trusted",
    );
  }
  // Loaded here, not at the top: the X.509 library takes about 0.5 s to load, which every other
  // dkv command would pay.
  const { createClusterCa } = await import("../../node/security/certificates.js");
  const ca = await createClusterCa({ nowMs: Date.now(), validDays: days });
  await writeCredential(files, ca);
  const cert = new X509Certificate(ca.certPem);
  console.log(`${existing.length > 0 ? "replaced" : "created"} CA ${cert.subject}`);
  console.log(`  certificate ${files.certFile} (give it to every node and client)`);
  console.log(`  key         ${files.keyFile} (mode 0600; only where certificates are issued)`);
  console.log(`  valid until ${new Date(cert.validTo).toISOString()}`);
  console.log(`  sha256      ${cert.fingerprint256}`);
}
