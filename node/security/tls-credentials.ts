// Mutual TLS for gRPC from a credentials directory, reloaded without a restart. A certificate
// provider (grpc-js's experimental CertificateProvider) reads the CA bundle, certificate and key,
// checks they belong together, and hands grpc-js every new good set; server and channel
// credentials are built on it. New connections take the newest set; open ones keep theirs.

import * as grpc from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import type { Clock } from "../clock.js";
import type { NodeId } from "../core/node-id.js";
import {
  checkCredential,
  type CredentialBundle,
  type CredentialCheck,
} from "./credential-check.js";
import { readCredentialFile, type CredentialFiles } from "./credential-files.js";
import { nodeIdOfCertificate } from "./peer-identity.js";

type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/** The outcome of one reload: `changed` when new files are now served. */
export type ReloadResult =
  | (CredentialCheck & { readonly ok: true; readonly changed: boolean })
  | { readonly ok: false; readonly reason: string };

/** How a provider checks and reports. */
export interface ProviderOptions {
  /** Time for the validity check. */
  readonly clock: Clock;
  /** The node the certificate must name (a node's own credentials); absent for a client's. */
  readonly expectNodeId?: NodeId;
  /** Told of every reload, good or refused (for logs and metrics). */
  readonly onReload?: (result: ReloadResult, files: CredentialFiles) => void;
}

/**
 * A certificate provider over files that reloads on demand ({@link reload}, e.g. on SIGHUP) or by
 * polling ({@link watch}). Unlike grpc-js's FileWatcherCertificateProvider it never hands grpc-js
 * a set that fails its check (a key written before its certificate, an expired or foreign
 * certificate) and never withdraws the last good set: a server that gets no set drops every new
 * connection. A refused reload keeps serving the last good set and says why.
 */
export class ReloadingCertificateProvider implements grpc.experimental.CertificateProvider {
  readonly #files: CredentialFiles;
  readonly #options: ProviderOptions;
  readonly #caListeners = new Set<CaListener>();
  readonly #identityListeners = new Set<IdentityListener>();
  #current: { readonly bundle: CredentialBundle; readonly check: CredentialCheck } | undefined;
  /** Reloads run one after another: a reload asked for after a write reads after the write. */
  #queue: Promise<unknown> = Promise.resolve();
  #stopWatching: (() => void) | undefined;

  private constructor(files: CredentialFiles, options: ProviderOptions) {
    this.#files = files;
    this.#options = options;
  }

  /** Loads the files once; rejects with the reason when they cannot be served. */
  static async open(
    files: CredentialFiles,
    options: ProviderOptions,
  ): Promise<ReloadingCertificateProvider> {
    const provider = new ReloadingCertificateProvider(files, options);
    const result = await provider.reload();
    if (!result.ok) {
      throw new Error(`cannot serve TLS credentials ${files.certFile}: ${result.reason}`);
    }
    return provider;
  }

  /** The check of the set served now. */
  get current(): CredentialCheck {
    if (this.#current === undefined) throw new Error("no credentials loaded");
    return this.#current.check;
  }

  /** Reads the files again and serves them when they pass the check and differ. */
  reload(): Promise<ReloadResult> {
    const next = this.#queue.then(() => this.#load());
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Reloads every `intervalMs` until the returned function (or {@link close}) stops it. Only a
   * change is served; an unchanged set costs three small reads.
   */
  watch(intervalMs: number): () => void {
    if (!(intervalMs > 0)) throw new Error(`watch interval must be positive, got ${intervalMs}`);
    this.#stopWatching?.();
    let cancel = (): void => undefined;
    let stopped = false;
    const tick = (): void => {
      void this.reload().finally(() => {
        if (!stopped) cancel = this.#options.clock.setTimer(intervalMs, tick);
      });
    };
    cancel = this.#options.clock.setTimer(intervalMs, tick);
    const stop = (): void => {
      stopped = true;
      cancel();
    };
    this.#stopWatching = stop;
    return stop;
  }

  /** Stops watching. Connections made with the last set keep it. */
  close(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  async #load(): Promise<ReloadResult> {
    let bundle: CredentialBundle;
    try {
      const [ca, cert, key] = await Promise.all([
        readCredentialFile(this.#files.caFile),
        readCredentialFile(this.#files.certFile),
        readCredentialFile(this.#files.keyFile),
      ]);
      bundle = { ca, cert, key };
    } catch (error: unknown) {
      return this.#report({
        ok: false,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    const check = checkCredential(bundle, this.#options.clock.nowMs(), this.#options.expectNodeId);
    if (!check.ok) return this.#report(check);
    const previous = this.#current?.bundle;
    const changed =
      previous === undefined ||
      !previous.ca.equals(bundle.ca) ||
      !previous.cert.equals(bundle.cert) ||
      !previous.key.equals(bundle.key);
    if (changed) {
      this.#current = { bundle, check };
      // Both updates in one synchronous turn: no connection sees a new certificate with an old
      // CA bundle or the reverse.
      for (const listener of this.#identityListeners) listener(this.#identityUpdate());
      for (const listener of this.#caListeners) listener(this.#caUpdate());
    }
    return this.#report({ ...check, changed });
  }

  #report(result: ReloadResult): ReloadResult {
    this.#options.onReload?.(result, this.#files);
    return result;
  }

  #identityUpdate(): grpc.experimental.IdentityCertificateUpdate | null {
    const bundle = this.#current?.bundle;
    return bundle === undefined ? null : { certificate: bundle.cert, privateKey: bundle.key };
  }

  #caUpdate(): grpc.experimental.CaCertificateUpdate | null {
    const bundle = this.#current?.bundle;
    return bundle === undefined ? null : { caCertificate: bundle.ca };
  }

  // The listener interface grpc-js calls. The current set goes to a new listener in a later
  // microtask, never synchronously: grpc-js's server credentials register their own watcher only
  // after adding these listeners, and would miss a synchronous first update.

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    queueMicrotask(() => {
      if (this.#caListeners.has(listener) && this.#current !== undefined) {
        listener(this.#caUpdate());
      }
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.#identityListeners.has(listener) && this.#current !== undefined) {
        listener(this.#identityUpdate());
      }
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }
}

/** Whether a server asks for client certificates and refuses connections without a good one. */
export type ClientCertificates =
  /** Internode ports: no verified certificate of the cluster CA, no connection. */
  | "require"
  /**
   * Public ports: a client may connect without one (and authenticate with a token); only a
   * verified certificate shows up in `call.getAuthContext()`.
   */
  | "request";

/** Server credentials serving the provider's newest certificate. */
export function tlsServerCredentials(
  provider: ReloadingCertificateProvider,
  clientCertificates: ClientCertificates,
): grpc.ServerCredentials {
  // grpc-js 1.14.7 names the first argument the CA provider but uses it for the identity (and
  // the second for the CA): with one provider for both, the swap cannot bite.
  return grpc.experimental.createCertificateProviderServerCredentials(
    provider,
    provider,
    clientCertificates === "require",
  );
}

/**
 * Channel credentials presenting the provider's certificate and trusting its CA bundle. With
 * `serverNodeId` the server must prove that node id (its certificate's SAN), whatever address
 * was dialled; without it the usual host name check applies (the node's host SANs).
 */
export function tlsChannelCredentials(
  provider: ReloadingCertificateProvider,
  serverNodeId?: NodeId,
): grpc.ChannelCredentials {
  const verifyOptions =
    serverNodeId === undefined
      ? {}
      : {
          checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
            const named = nodeIdOfCertificate(cert.raw);
            return named === serverNodeId
              ? undefined
              : new Error(
                  `server certificate names node ${named ?? "(none)"}, not ${serverNodeId}`,
                );
          },
        };
  return grpc.experimental.createCertificateProviderChannelCredentials(
    provider,
    provider,
    verifyOptions,
  );
}
