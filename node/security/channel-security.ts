// How a node dials its peers: plaintext (`dkv serve --insecure`), or mutual TLS presenting the
// node's own certificate and requiring the peer to prove the node id the layout gives it. One
// long-lived channel per peer (peer-clients.ts), so a handshake is paid per connection, never
// per request.

import * as grpc from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import type { NodeId } from "../core/node-id.js";
import { nodeIdOfCertificate } from "./peer-identity.js";
import type { ReloadingCertificateProvider } from "./tls-credentials.js";

/** Credentials and extra channel options for one channel. */
export interface ChannelSecurityParts {
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ChannelOptions;
}

/** How this node's channels to other nodes are secured. */
export interface ChannelSecurity {
  /** True when channels are TLS. */
  readonly tls: boolean;
  /**
   * A channel to node `node`, which must prove that id; with no node (the member a new node
   * joins through, whose id it does not know yet), any node of the cluster's CA.
   */
  channel(node?: NodeId): ChannelSecurityParts;
}

/** Plaintext channels: `dkv serve --insecure`. */
export const INSECURE_CHANNELS: ChannelSecurity = {
  tls: false,
  channel: () => ({ credentials: grpc.credentials.createInsecure(), options: {} }),
};

/**
 * Mutual TLS from the node's reloading provider: new connections take the newest certificate,
 * open ones keep theirs. The server's certificate must name `node` (or any node when absent);
 * the host it was dialled at is not checked, because the node id is what the layout trusts.
 */
export function tlsChannels(provider: ReloadingCertificateProvider): ChannelSecurity {
  return {
    tls: true,
    channel(node?: NodeId): ChannelSecurityParts {
      const checkServerIdentity = (_host: string, cert: PeerCertificate): Error | undefined => {
        const named = nodeIdOfCertificate(cert.raw);
        if (named !== undefined && (node === undefined || named === node)) return undefined;
        return new Error(
          `server certificate names node ${named ?? "(none)"}, not ${node ?? "a dkv node"}`,
        );
      };
      return {
        credentials: grpc.experimental.createCertificateProviderChannelCredentials(
          provider,
          provider,
          { checkServerIdentity },
        ),
        // The TLS server name: an IP address there is not allowed (RFC 6066; Node warns), and
        // the check above does not use it.
        options: { "grpc.ssl_target_name_override": "dkv-node" },
      };
    },
  };
}
