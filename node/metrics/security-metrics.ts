// Security metrics, read at scrape time: calls the call guard refused, by status and method
// (a bounded set: only served methods reach the guard), whether the node runs TLS, the
// connections the node closed itself, and what bearer token checks cost.

import { Counter, Gauge, type Registry } from "prom-client";

/** What the security metrics read. */
export interface SecurityMetricSources {
  /** "tls" or "insecure". */
  readonly mode: string;
  /** Refused calls so far, keyed by status name and method path. */
  readonly refused: ReadonlyMap<string, { code: string; method: string; count: number }>;
  /** The public port's connections (node/wire/connection-gate.ts). */
  readonly connections?: {
    /** Closed by the node, by reason (address-limit, total-limit, handshake-timeout). */
    readonly refused: ReadonlyMap<string, number>;
    open(): number;
  };
  /** Bearer token checks (node/security/tokens.ts TokenVerifier.stats). */
  readonly tokenChecks?: {
    readonly hits: number;
    readonly derivations: number;
    readonly failures: number;
    readonly throttled: number;
  };
}

export function registerSecurityMetrics(registry: Registry, sources: SecurityMetricSources): void {
  new Gauge({
    name: "dkv_security_tls",
    help: "1 when the node runs TLS with every call checked; 0 when it was started --insecure",
    registers: [registry],
    collect() {
      this.set(sources.mode === "tls" ? 1 : 0);
    },
  });
  new Counter({
    name: "dkv_calls_refused_total",
    help: "Calls the call guard refused (UNAUTHENTICATED: no identity; PERMISSION_DENIED: not allowed)",
    labelNames: ["code", "method"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { code, method, count } of sources.refused.values()) {
        this.inc({ code, method }, count);
      }
    },
  });
  const connections = sources.connections;
  if (connections !== undefined) {
    new Counter({
      name: "dkv_connections_refused_total",
      help: "Connections the node closed, by reason: at accept, before TLS, over the per-address or total bound (address-limit, total-limit), from an address whose calls keep failing authentication (auth-failures), from an untrusted address with its handshakes under way (handshake-limit) or past the handshakes per second spent on untrusted addresses (stranger-rate); or not set up (TLS handshake) in time (handshake-timeout)",
      labelNames: ["reason"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, count] of connections.refused) this.inc({ reason }, count);
      },
    });
    new Gauge({
      name: "dkv_connections_open",
      help: "Connections open to the node's gRPC port",
      registers: [registry],
      collect() {
        this.set(connections.open());
      },
    });
  }
  const tokens = sources.tokenChecks;
  if (tokens !== undefined) {
    new Counter({
      name: "dkv_token_checks_total",
      help: "Bearer token checks by result: cached (known good, no scrypt), scrypt (runs of scrypt), failed, throttled (refused without scrypt: the address spent its failed-check budget)",
      labelNames: ["result"],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: "cached" }, tokens.hits);
        this.inc({ result: "scrypt" }, tokens.derivations);
        this.inc({ result: "failed" }, tokens.failures);
        this.inc({ result: "throttled" }, tokens.throttled);
      },
    });
  }
}
