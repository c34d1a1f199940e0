// Goal: `dkv cert init` and `dkv cert issue` write a CA and certificates that chain to it, keys
// readable by their owner only, refuse to replace a CA without --force, and turn every mistake
// into a clear message and exit status 2.
// Method: the command handlers called in-process (a UsageError is exit status 2 in main.ts), and
// the built CLI run as a child process to show the wiring and the exit status themselves.

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as certInit from "../../cli/commands/cert-init.js";
import * as certIssue from "../../cli/commands/cert-issue.js";
import { UsageError } from "../../cli/usage.js";
import { MAIN_SCRIPT } from "./local-cluster-harness.js";
import { ensureClusterKeyFile } from "../../cli/local-cluster.js";

type InitArgs = Parameters<typeof certInit.handler>[0];
type IssueArgs = Parameters<typeof certIssue.handler>[0];

const root = mkdtempSync(path.join(tmpdir(), "dkv-cert-cli-"));
const dir = path.join(root, "certs");
const read = (name: string): string => readFileSync(path.join(dir, name), "utf8");
const modeOf = (name: string): number => statSync(path.join(dir, name)).mode & 0o777;

/** Runs a handler and returns what it printed. */
async function printed(run: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}

function init(change: Partial<InitArgs> = {}): Promise<string> {
  return printed(() => certInit.handler({ _: [], $0: "dkv", dir, force: false, ...change }));
}

function issue(change: Partial<IssueArgs>): Promise<string> {
  return printed(() => certIssue.handler({ _: [], $0: "dkv", dir, ...change }));
}

beforeAll(async () => {
  expect(await init()).toMatch(/^created CA CN=dkv cluster CA/);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("dkv cert", () => {
  it("init writes a CA certificate and a private key in a private directory", () => {
    expect(new X509Certificate(read("ca.crt")).ca).toBe(true);
    expect(modeOf("ca.key")).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("issues node and client certificates signed by the CA, keys private", async () => {
    expect(await issue({ node: "n2", days: 30 })).toContain(
      "issued CN=n2: URI:dkv:node:n2, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(await issue({ client: "alice" })).toContain("issued CN=alice: URI:dkv:user:alice");
    expect(await issue({ client: "alice" })).toMatch(/^replaced CN=alice/);
    const ca = new X509Certificate(read("ca.crt"));
    for (const stem of ["node-n2", "client-alice"]) {
      expect(new X509Certificate(read(`${stem}.crt`)).verify(ca.publicKey)).toBe(true);
      expect(modeOf(`${stem}.key`)).toBe(0o600);
    }
    const n2 = new X509Certificate(read("node-n2.crt"));
    expect(Date.parse(n2.validTo) - Date.parse(n2.validFrom)).toBe((30 * 24 * 60 + 5) * 60_000);
  });

  it("refuses to replace the CA without --force, and replaces it with", async () => {
    const other = path.join(root, "other");
    await init({ dir: other });
    const before = readFileSync(path.join(other, "ca.crt"), "utf8");
    await expect(init({ dir: other })).rejects.toThrow(
      new UsageError(
        `a CA already exists (${other}/ca.crt, ${other}/ca.key); --force replaces it, and every ` +
          "certificate it issued stops being trusted",
      ),
    );
    expect(readFileSync(path.join(other, "ca.crt"), "utf8")).toBe(before);
    expect(await init({ dir: other, force: true })).toMatch(/^replaced CA CN=dkv cluster CA/);
    expect(readFileSync(path.join(other, "ca.crt"), "utf8")).not.toBe(before);
  });

  // prettier-ignore
  const failures: [string, Partial<IssueArgs>, RegExp][] = [
    ["no subject",               {},                                  /name what to issue for: --node ID or --client NAME/],
    ["both subjects",            { node: "n1", client: "a" },         /--node and --client exclude each other/],
    ["a malformed node id",      { node: "n/1" },                     /--node must be 1 to 64 of \[A-Za-z0-9_.-\], got 'n\/1'/],
    ["a wildcard host",          { node: "n1", host: ["*.example"] }, /--host must be a host name or an IP address, got '\*\.example'/],
    ["a host for a client",      { client: "a", host: ["x"] },        /--host goes with --node, not --client/],
    ["a malformed user",         { client: "a b" },                   /--client must be 1 to 64 of \[A-Za-z0-9_.@-\], got 'a b'/],
    ["zero days",                { node: "n1", days: 0 },             /--days must be a whole number from 1 to 36500, got 0/],
    ["days beyond the CA",       { node: "n1", days: 4000 },          /--days 4000 outlives the CA, valid until 20/],
    ["a directory without a CA", { node: "n1", dir: "/nonexistent" }, /no CA in \/nonexistent: run 'dkv cert init --dir \/nonexistent' first/],
  ];

  it.each(failures)("issue refuses %s as a usage error", async (_name, args, message) => {
    const refused = issue(args);
    await expect(refused).rejects.toThrow(message);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
  });
});

describe("dkv cert, the built command", () => {
  function dkv(
    args: string[],
    timeout = 0,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [MAIN_SCRIPT, ...args], { timeout }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  }

  it("issues with several --host values, and exits 2 on a usage error", async () => {
    const [issued, refused] = await Promise.all([
      dkv(["cert", "issue", "--dir", dir, "--node", "n1", "--host", "10.0.0.7", "db1.example"]),
      dkv(["cert", "issue", "--dir", dir, "--client", "a", "--host", "x"]),
    ]);
    expect(issued).toMatchObject({ code: 0, stderr: "" });
    expect(issued.stdout).toContain("URI:dkv:node:n1, IP Address:10.0.0.7, DNS:db1.example");
    expect(refused).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: --host goes with --node, not --client\n",
    });
  });

  it("a node whose certificate names another node cannot start, nor join", async () => {
    // n9's certificate under n4's file names, as a copy by mistake or on purpose would put it.
    await issue({ node: "n9" });
    copyFileSync(path.join(dir, "node-n9.crt"), path.join(dir, "node-n4.crt"));
    copyFileSync(path.join(dir, "node-n9.key"), path.join(dir, "node-n4.key"));
    const data = path.join(root, "data-n4");
    const key = ensureClusterKeyFile(path.join(root, "cluster"));
    const started = await dkv(
      [
        ...["serve", "--id", "n4", "--listen", "127.0.0.1:0", "--data-dir", data, "--tls-dir", dir],
        ...["--cluster-key", key, "--join", "127.0.0.1:1"],
      ],
      20_000,
    );
    expect(started.code).toBe(2);
    expect(started.stderr).toMatch(/the certificate names node n9, not n4/);
  });
});
