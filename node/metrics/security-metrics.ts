// Security metrics, read at scrape time: calls the call guard refused, by status and method
// (a bounded set: only served methods reach the guard), and whether the node runs TLS.

import { Counter, Gauge, type Registry } from "prom-client";

/** What the security metrics read. */
export interface SecurityMetricSources {
  /** "tls" or "insecure". */
  readonly mode: string;
  /** Refused calls so far, keyed by status name and method path. */
  readonly refused: ReadonlyMap<string, { code: string; method: string; count: number }>;
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
}
