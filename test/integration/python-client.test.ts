// Goal: a client generated from proto/dkv.proto alone, in another language, works against a
// secured cluster as README "Using dkv from any language" says: Python's grpcio, TLS trusting the
// cluster CA, a bearer token from `dkv user add`, grants per bucket.
// Method: protoc (grpc_tools) makes the stubs in a temporary directory; a 3-node TLS cluster;
// the CLI adds a user and grants it one bucket; python/kv_client.py writes, reads, replaces with
// the read's context and reads a bucket it has no grant on. Skipped, saying why, where no Python
// ($DKV_PYTHON, python3, /usr/bin/python3) has grpcio and grpc_tools (Debian: apt-get install
// python3-grpcio python3-grpc-tools).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MAIN_SCRIPT, TestCluster } from "./local-cluster-harness.js";
import { certDirOf } from "../../cli/local-credentials.js";

// The first Python with both (a pyenv shim may come before the system's on PATH).
const python = [process.env["DKV_PYTHON"], "python3", "/usr/bin/python3"].find(
  (candidate) =>
    candidate !== undefined &&
    spawnSync(candidate, ["-c", "import grpc, grpc_tools"], { encoding: "utf8" }).status === 0,
);
if (python === undefined) {
  console.warn(
    "python-client.test.ts skipped: python3 with grpcio and grpc_tools is missing " +
      "(Debian: apt-get install python3-grpcio python3-grpc-tools)",
  );
}

function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

describe.skipIf(python === undefined)("a Python client from proto/dkv.proto alone", () => {
  let cluster: TestCluster;
  const stubs = mkdtempSync(path.join(tmpdir(), "dkv-python-stubs-"));

  beforeAll(async () => {
    const generated = await run(python!, [
      ...["-m", "grpc_tools.protoc", "-Iproto", `--python_out=${stubs}`],
      ...[`--grpc_python_out=${stubs}`, "proto/dkv.proto"],
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    cluster = await TestCluster.start({ nodes: 3 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    rmSync(stubs, { recursive: true, force: true });
  });

  it("writes, reads and replaces with a token, and is refused a bucket it has no grant on", async () => {
    const address = cluster.spec("n1").address;
    const dkv = (args: string[]) =>
      run(process.execPath, [MAIN_SCRIPT, ...args, "--node", address], cluster.cliEnv);
    const added = await dkv(["user", "add", "pyuser", "--json"]);
    expect(added.code, added.stderr).toBe(0);
    const { token } = JSON.parse(added.stdout) as { token: string };
    for (const permission of ["read", "write"]) {
      const granted = await dkv(["grant", permission, "--bucket", "photos", "--user", "pyuser"]);
      expect(granted.code, granted.stderr).toBe(0);
    }
    // The node's certificate names localhost: dial the name, as a client on another host would
    // dial the name its node's certificate carries.
    const port = address.split(":").at(-1)!;
    const ca = path.join(path.resolve(certDirOf(cluster.dir)), "ca.crt");
    const client = await run(python!, [
      path.resolve("test/integration/python/kv_client.py"),
      ...[stubs, `localhost:${port}`, ca, token],
    ]);
    expect(client.code, client.stderr).toBe(0);
    const out = JSON.parse(client.stdout.trim()) as Record<string, unknown>;
    expect(out["values"]).toEqual(["from python"]);
    expect(out["after_replace"]).toEqual(["replaced"]);
    expect(out["put_context_bytes"]).toBeGreaterThan(0);
    expect(out["secrets"]).toEqual([
      "PERMISSION_DENIED",
      'user pyuser has no read grant on bucket "secrets"',
    ]);
  }, 60_000);
});
