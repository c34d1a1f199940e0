// Where a credentials directory keeps the cluster CA and each node's and client's certificate and
// key, and how they are read and written: keys mode 0600, every file replaced whole (tmp, fsync,
// rename), every read bounded.
//
//   <dir>/ca.crt                      the CA bundle every party trusts (one or more CA certificates)
//   <dir>/ca.key                      the CA's key: only where certificates are issued
//   <dir>/node-<id>.crt, .key         a node's certificate (SAN URI dkv:node:<id>) and key
//   <dir>/client-<name>.crt, .key     a user's client certificate (SAN URI dkv:user:<name>) and key

import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import { CREDENTIAL_FILE_BYTES_MAX } from "../core/limits.js";
import type { NodeId } from "../core/node-id.js";
import { writeFileDurably } from "../durable-file.js";
import type { PemCredential } from "./certificates.js";

/** A certificate file and its key file. */
export interface KeyPairFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** What one party needs for mutual TLS: the CA bundle it trusts, its certificate and its key. */
export interface CredentialFiles extends KeyPairFiles {
  readonly caFile: string;
}

/** The cluster CA's certificate and key in `dir`. */
export function caFiles(dir: string): KeyPairFiles {
  return { certFile: path.join(dir, "ca.crt"), keyFile: path.join(dir, "ca.key") };
}

/** Node `nodeId`'s files in `dir`. */
export function nodeCredentialFiles(dir: string, nodeId: NodeId): CredentialFiles {
  return withCa(dir, `node-${nodeId}`);
}

/** User `user`'s client certificate files in `dir` (the name is checked by the issuer). */
export function clientCredentialFiles(dir: string, user: string): CredentialFiles {
  return withCa(dir, `client-${user}`);
}

function withCa(dir: string, stem: string): CredentialFiles {
  return {
    caFile: caFiles(dir).certFile,
    certFile: path.join(dir, `${stem}.crt`),
    keyFile: path.join(dir, `${stem}.key`),
  };
}

/**
 * Writes a certificate and its key, each replaced whole; the key first, mode 0600 (a reader
 * between the two sees a key that does not match the certificate, which the reloader refuses).
 * Creates the directory, mode 0700, when it is missing.
 */
export async function writeCredential(files: KeyPairFiles, credential: PemCredential) {
  await mkdir(path.dirname(files.keyFile), { recursive: true, mode: 0o700 });
  await writeFileDurably(files.keyFile, credential.keyPem, 0o600);
  await writeFileDurably(files.certFile, credential.certPem);
}

/** Reads a certificate and its key as PEM text. */
export async function readCredential(files: KeyPairFiles): Promise<PemCredential> {
  const [cert, key] = await Promise.all([
    readCredentialFile(files.certFile),
    readCredentialFile(files.keyFile),
  ]);
  return { certPem: cert.toString("utf8"), keyPem: key.toString("utf8") };
}

/** Reads one credential file, refusing one larger than {@link CREDENTIAL_FILE_BYTES_MAX}. */
export async function readCredentialFile(file: string): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    // Read one byte past the bound: a file that grows between a stat and the read is caught too.
    const buffer = Buffer.alloc(CREDENTIAL_FILE_BYTES_MAX + 1);
    let length = 0;
    // Bounded: every round fills more of the buffer or ends at the end of the file.
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > CREDENTIAL_FILE_BYTES_MAX) {
      throw new Error(`${file} is larger than ${CREDENTIAL_FILE_BYTES_MAX} bytes`);
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
