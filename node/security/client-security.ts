// How a client (the dkv CLI, the TypeScript client, benchmarks) connects to nodes: TLS trusting
// the cluster CA, presenting a client certificate and/or a bearer token; or plaintext for a node
// started with --insecure. The node's certificate must name the host the client dialled.

import * as grpc from "@grpc/grpc-js";
import { existsSync, readFileSync } from "node:fs";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import type { ChannelSecurityParts } from "./channel-security.js";
import { caFiles, clientCredentialFiles } from "./credential-files.js";

/** How a client's channel to `address` (host:port) is secured. */
export interface ClientSecurity {
  readonly tls: boolean;
  channel(address: string): ChannelSecurityParts;
}

/** Plaintext: for nodes started with --insecure. */
export const INSECURE_CLIENT: ClientSecurity = {
  tls: false,
  channel: () => ({ credentials: grpc.credentials.createInsecure(), options: {} }),
};

/**
 * What a TLS client presents: the CA bundle it trusts (PEM), and a certificate and key or a
 * token or both. Plain text, so it can be handed to a worker process.
 */
export interface ClientCredentialsPem {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
  /** Sent as `authorization: Bearer <token>` on every call, over TLS only. */
  readonly token?: string;
}

/** TLS with `pem`, or plaintext when there is none. */
export function securityOf(pem: ClientCredentialsPem | undefined): ClientSecurity {
  return pem === undefined ? INSECURE_CLIENT : tlsClient(pem);
}

/** The host part of host:port ([v6] unbracketed). */
export function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(":"));
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** TLS with the given credentials. */
export function tlsClient(pem: ClientCredentialsPem): ClientSecurity {
  const callCredentials =
    pem.token === undefined
      ? undefined
      : grpc.credentials.createFromMetadataGenerator((_params, callback) => {
          const metadata = new grpc.Metadata();
          metadata.set("authorization", `Bearer ${pem.token}`);
          callback(null, metadata);
        });
  return {
    tls: true,
    channel(address: string): ChannelSecurityParts {
      const host = hostOf(address);
      const [ca, key, cert] = [pem.ca, pem.key, pem.cert].map((text) =>
        text === undefined ? null : Buffer.from(text, "utf8"),
      );
      const ssl = grpc.credentials.createSsl(ca ?? null, key ?? null, cert ?? null, {
        // The standard host check, against the address dialled, not the TLS server name below.
        checkServerIdentity: (_name: string, cert: PeerCertificate) =>
          checkServerIdentity(host, cert),
      });
      return {
        credentials:
          callCredentials === undefined
            ? ssl
            : grpc.credentials.combineChannelCredentials(ssl, callCredentials),
        // An IP address is not allowed as the TLS server name (RFC 6066; Node warns).
        options: { "grpc.ssl_target_name_override": "dkv-node" },
      };
    },
  };
}

/**
 * The credentials a local cluster made: `<certDir>/ca.crt` and `user`'s client certificate (by
 * default the bootstrap admin's); undefined when there is no CA (a cluster run --insecure).
 */
export function localClientCredentials(
  certDir: string,
  user = "admin",
): ClientCredentialsPem | undefined {
  const ca = caFiles(certDir).certFile;
  if (!existsSync(ca)) return undefined;
  const files = clientCredentialFiles(certDir, user);
  const hasCert = existsSync(files.certFile) && existsSync(files.keyFile);
  const read = (file: string): string => readFileSync(file, "utf8");
  return {
    ca: read(ca),
    ...(hasCert ? { cert: read(files.certFile), key: read(files.keyFile) } : {}),
  };
}

/** TLS with a local cluster's credentials, or plaintext when it has none. */
export function localClientSecurity(certDir: string, user = "admin"): ClientSecurity {
  return securityOf(localClientCredentials(certDir, user));
}
