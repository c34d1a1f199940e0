// A node's security, in one place: the credentials its server listens with, how it dials its
// peers, and the guard every call passes. Either TLS from a credentials directory (the node's
// certificate and key and the cluster CA, reloaded on SIGHUP and by polling) with every call
// checked, or `--insecure`: plaintext and unchecked, said loudly.

import { BOOTSTRAP_ADMIN } from "./metadata-access.js";
import * as grpc from "@grpc/grpc-js";
import type { Clock } from "../clock.js";
import type { NodeId } from "../core/node-id.js";
import type { Logger } from "../logger.js";
import { callGuard, type AccessCheck, type Refusal } from "./call-guard.js";
import { INSECURE_CHANNELS, tlsChannels, type ChannelSecurity } from "./channel-security.js";
import { nodeCredentialFiles } from "./credential-files.js";
import { ReloadingCertificateProvider, tlsServerCredentials } from "./tls-credentials.js";

export { BOOTSTRAP_ADMIN };

/** How often the credential files are checked for a rotation (SIGHUP reloads at once). */
export const CREDENTIAL_POLL_MS = 30_000;

/** What start-node.ts needs. */
export interface NodeSecurity {
  /** "tls" or "insecure", as `dkv status` shows it. */
  readonly mode: "tls" | "insecure";
  readonly serverCredentials: grpc.ServerCredentials;
  readonly channels: ChannelSecurity;
  /**
   * The interceptor checking every call, given who the current members are and the users,
   * tokens and grants; none when insecure.
   */
  guard(deps: {
    isMember: (node: NodeId) => boolean;
    access: AccessCheck;
  }): grpc.ServerInterceptor | undefined;
  /** Calls refused so far, by status and method (for dkv_calls_refused_total). */
  readonly refused: ReadonlyMap<string, { code: string; method: string; count: number }>;
  /** Reads the credential files again (SIGHUP). */
  reload(): Promise<void>;
  close(): void;
}

/** Plaintext, unchecked: `dkv serve --insecure`. */
export const INSECURE_NODE: NodeSecurity = {
  mode: "insecure",
  serverCredentials: grpc.ServerCredentials.createInsecure(),
  channels: INSECURE_CHANNELS,
  guard: () => undefined,
  refused: new Map(),
  reload: () => Promise.resolve(),
  close: () => undefined,
};

/**
 * TLS from `dir` (ca.crt, node-<self>.crt and .key): refuses to start on files that do not
 * belong together or do not name `self`. Refused calls are counted and logged at most once per
 * `logEveryMs` per method, without secrets.
 */
export async function openNodeSecurity(options: {
  readonly dir: string;
  readonly self: NodeId;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onRefused?: (refusal: Refusal) => void;
}): Promise<NodeSecurity> {
  const { clock, logger } = options;
  const files = nodeCredentialFiles(options.dir, options.self);
  const provider = await ReloadingCertificateProvider.open(files, {
    clock,
    expectNodeId: options.self,
    onReload(result) {
      if (!result.ok) {
        logger.error(
          { file: files.certFile, reason: result.reason },
          "TLS credentials not reloaded; the last good ones stay in use",
        );
      } else if (result.changed) {
        logger.info({ file: files.certFile }, "TLS credentials loaded");
      }
    },
  });
  provider.watch(CREDENTIAL_POLL_MS);
  const lastLogged = new Map<string, number>();
  const refused = new Map<string, { code: string; method: string; count: number }>();
  const onRefused = (refusal: Refusal): void => {
    options.onRefused?.(refusal);
    const code = grpc.status[refusal.code];
    const key = `${code} ${refusal.method}`;
    const entry = refused.get(key) ?? { code, method: refusal.method, count: 0 };
    entry.count += 1;
    refused.set(key, entry);
    const now = clock.nowMs();
    if (now - (lastLogged.get(refusal.method) ?? -Infinity) < 10_000) return;
    lastLogged.set(refusal.method, now);
    logger.warn(refusal, "call refused (logged at most every 10 s per method)");
  };
  return {
    mode: "tls",
    serverCredentials: tlsServerCredentials(provider, "request"),
    channels: tlsChannels(provider),
    refused,
    guard: ({ isMember, access }) => callGuard({ isMember, access, onRefused }),
    async reload() {
      await provider.reload();
    },
    close: () => provider.close(),
  };
}
