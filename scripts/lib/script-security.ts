// The credentials a script's clients use for the one cluster it drives: set once when the script
// learns its cluster directory (loadCluster, NemesisCluster.start), read by every client it makes.
// Plaintext until then, as a cluster started with --insecure needs.

import { clusterClientSecurity } from "../../cli/local-cluster.js";
import { INSECURE_CLIENT, type ClientSecurity } from "../../node/security/client-security.js";

let current: ClientSecurity = INSECURE_CLIENT;

/** Clients from now on reach the cluster in `clusterDir` with its credentials. */
export function useClusterSecurity(clusterDir: string): void {
  current = clusterClientSecurity(clusterDir);
}

/** The credentials of the cluster this script drives. */
export function scriptSecurity(): ClientSecurity {
  return current;
}
