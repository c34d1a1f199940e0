// The lock that makes `dkv cluster up` the only supervisor of a cluster directory: a Unix domain
// socket the supervisor listens on. IO shell (node:net and node:fs).
//
// Why a socket and not a pid: the old check (`kill(pid, 0)` on cluster.json's supervisorPid)
// reports a zombie as alive, and a supervisor killed with SIGKILL stays a zombie for as long as
// its parent does not reap it — for ever in a container whose PID 1 reaps no orphans. A pid can
// also be reused by an unrelated process. A listening socket is held by an open fd, and the
// kernel closes every fd of a process when it dies, before it becomes a zombie; so "running"
// is "a connect succeeds", and a refused connect (ECONNREFUSED: the socket file outlived its
// listener) means the last supervisor is gone, whatever state its pid is in. Node has no flock;
// this is the portable lock that is released by the process's death.

import { createHash } from "node:crypto";
import { lstatSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** Longest socket path used in the cluster dir; sun_path holds 108 bytes on Linux, 104 on macOS. */
const SOCKET_PATH_BYTES_MAX = 100;
/** How long a probe waits for a live supervisor to answer before calling it running anyway. */
const PROBE_TIMEOUT_MS = 2000;
/** Attempts at taking a stale lock when another starter races for it. */
const TAKE_ATTEMPTS_MAX = 5;

/** The held lock; `release` stops listening and removes the socket file. */
export interface SupervisorLock {
  readonly socketPath: string;
  release(): Promise<void>;
}

/** What taking the lock found. */
export type TakeLockResult =
  | { readonly ok: true; readonly lock: SupervisorLock; readonly tookOverStale: boolean }
  | { readonly ok: false; readonly runningPid: number | undefined };

/**
 * Where the supervisor of `clusterDir` listens: `supervisor.sock` in the directory, or, when
 * that path is too long for a socket address, a name in the temp dir derived from the
 * directory's absolute path (so every starter of the same directory computes the same one).
 */
export function supervisorSocketPath(clusterDir: string): string {
  const inDir = path.join(path.resolve(clusterDir), "supervisor.sock");
  if (Buffer.byteLength(inDir) <= SOCKET_PATH_BYTES_MAX) return inDir;
  const digest = createHash("sha256").update(path.resolve(clusterDir)).digest("hex");
  return path.join(tmpdir(), `dkv-supervisor-${digest.slice(0, 16)}.sock`);
}

/**
 * Takes the supervisor lock of `clusterDir` (which must exist), or reports the pid of the live
 * supervisor that holds it. A socket file whose listener is gone (a dead or zombie supervisor)
 * is removed and the lock taken over.
 */
export async function takeSupervisorLock(clusterDir: string): Promise<TakeLockResult> {
  const socketPath = supervisorSocketPath(clusterDir);
  let tookOverStale = false;
  for (let attempt = 0; attempt < TAKE_ATTEMPTS_MAX; attempt++) {
    const server = await listen(socketPath);
    if (server !== undefined) {
      return { ok: true, lock: lockOf(server, socketPath), tookOverStale };
    }
    // The file exists. Note which file, so that only that one is removed if it is stale: a
    // starter racing us may have replaced it with its live socket in the meantime.
    const before = inodeOf(socketPath);
    const probe = await probeSupervisor(socketPath);
    if (probe.running) return { ok: false, runningPid: probe.pid };
    if (before !== undefined && inodeOf(socketPath) === before) {
      rmSync(socketPath, { force: true });
      tookOverStale = true;
    }
  }
  throw new Error(`cannot take the supervisor lock ${socketPath}: another starter keeps racing`);
}

/** Listens on the socket; undefined when the path is taken (EADDRINUSE). */
function listen(socketPath: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      // Whoever connects learns who holds the lock; nothing else is spoken here.
      socket.end(`${process.pid}\n`);
      socket.on("error", () => undefined);
    });
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(undefined);
      else reject(error);
    });
    server.listen(socketPath, () => {
      server.removeAllListeners("error");
      server.on("error", () => undefined);
      // The lock must not keep a supervisor alive that is otherwise done.
      server.unref();
      resolve(server);
    });
  });
}

function lockOf(server: net.Server, socketPath: string): SupervisorLock {
  return {
    socketPath,
    release: () =>
      new Promise<void>((resolve) => {
        // Closing a listening Unix socket removes its file (libuv); rm covers older runtimes.
        server.close(() => {
          rmSync(socketPath, { force: true });
          resolve();
        });
      }),
  };
}

/**
 * Connects to the socket. Running: the connect succeeded (the pid is what the supervisor
 * wrote, if it did in time). Not running: refused or gone (ECONNREFUSED, ENOENT).
 */
function probeSupervisor(
  socketPath: string,
): Promise<{ readonly running: boolean; readonly pid?: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let text = "";
    let connected = false;
    const timer = setTimeout(() => finish(), PROBE_TIMEOUT_MS);
    function finish(): void {
      clearTimeout(timer);
      socket.destroy();
      const pid = Number.parseInt(text, 10);
      resolve(Number.isInteger(pid) && pid > 0 ? { running: true, pid } : { running: true });
    }
    socket.on("connect", () => (connected = true));
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    socket.on("end", finish);
    socket.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      if (connected) finish();
      else if (error.code === "ECONNREFUSED" || error.code === "ENOENT")
        resolve({ running: false });
      else reject(new Error(`cannot probe the supervisor lock ${socketPath}: ${error.message}`));
    });
  });
}

function inodeOf(file: string): number | undefined {
  try {
    return lstatSync(file).ino;
  } catch {
    return undefined;
  }
}
