// The local cluster file that `dkv cluster up` writes and the other commands read, so that
// `dkv get` without --node talks to the cluster `npm start` runs.

import { readFileSync, writeFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";

/** Where `dkv cluster up` keeps its nodes unless told otherwise (relative to the cwd). */
export const DEFAULT_CLUSTER_DIR = path.join(".dkv", "cluster");

/** One node of a local cluster. */
export interface ClusterFileNode {
  readonly id: string;
  readonly address: string;
  readonly dataDir: string;
  readonly pid: number;
  readonly logFile: string;
  /** The argv (after `node`) that started it, so fault scripts can restart it. */
  readonly args: readonly string[];
  /** host:port of its Prometheus endpoint (GET /metrics), when it has one. */
  readonly metricsAddress?: string;
}

/** The contents of cluster.json. */
export interface ClusterFile {
  readonly version: 1;
  readonly supervisorPid: number;
  readonly storage: string;
  readonly partitionCount: number;
  readonly nodes: readonly ClusterFileNode[];
}

export function clusterFilePath(clusterDir: string): string {
  return path.join(clusterDir, "cluster.json");
}

/** Writes the file atomically (tmp + rename) so readers never see half of it. */
export function writeClusterFile(clusterDir: string, file: ClusterFile): void {
  const target = clusterFilePath(clusterDir);
  writeFileSync(`${target}.tmp`, JSON.stringify(file, null, 2) + "\n");
  renameSync(`${target}.tmp`, target);
}

/** The cluster file, or undefined when there is none. */
export function readClusterFile(clusterDir: string): ClusterFile | undefined {
  try {
    return JSON.parse(readFileSync(clusterFilePath(clusterDir), "utf8")) as ClusterFile;
  } catch {
    return undefined;
  }
}

export function removeClusterFile(clusterDir: string): void {
  rmSync(clusterFilePath(clusterDir), { force: true });
}
