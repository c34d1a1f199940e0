// What one unary call costs a server at a fixed rate (issue 16; not a test): Health.Check over
// TLS against a server process of scripts/lib/unary-server.ts in variants alternated — bare
// grpc-js, dkv's bounded server (admission, status and malformed-request interceptors), and that
// plus the call guard; also, with VARIANTS=http2, Node's HTTP/2 alone sending the same reply (the
// floor under grpc-js) — printing the server's CPU (utime + stime) per call at each rate.
// The client wakes every TICK ms and sends what is due, so the server wakes about that often.
// PLAINTEXT=1: no TLS on either side (as nodes started with --insecure).
// Run: [RATES=150,1000] [ROUNDS=2] [TICK=5] [SECONDS_PER_RATE=8] [VARIANTS=http2,bare,bounded,guard] [SERVER_FLAGS="--cpu-prof"]
//      npx tsx scripts/bench-unary.ts   (the server is the build's: npm run build first)
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HealthClient } from "../cli/health-client.js";
import { localClusterSpecs, probeFreePorts, clusterClientSecurity } from "../cli/local-cluster.js";
import { INSECURE_CLIENT } from "../node/security/client-security.js";

function cpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
const dir = mkdtempSync(path.join(tmpdir(), "unary-"));
await localClusterSpecs({
  ports: [1],
  clusterDir: dir,
  storage: "log",
  partitionCount: 8,
  logLevel: "warn",
});
const plaintext = process.env.PLAINTEXT === "1";
const security = plaintext ? INSECURE_CLIENT : clusterClientSecurity(dir);
const rates = (process.env.RATES ?? "150,1000").split(",").map(Number);
for (let round = 1; round <= Number(process.env.ROUNDS ?? 2); round++) {
  for (const variant of (process.env.VARIANTS ?? "bare,bounded,guard").split(",")) {
    const [port] = await probeFreePorts(1);
    const child = spawn(
      process.execPath,
      [
        ...(process.env.SERVER_FLAGS?.split(" ").filter((flag) => flag !== "") ?? []),
        // The build, as a node runs: tsx's transform adds helpers (__name, field initialisers)
        // to every class and function, which cost a unary call tens of µs.
        "dist/scripts/lib/unary-server.js",
        variant,
        String(port),
        path.join(dir, "certs"),
        plaintext ? "plaintext" : "tls",
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
        cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), ".."),
      },
    );
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    const client = new HealthClient(`127.0.0.1:${port}`, security);
    for (let i = 0; i < 200; i++) await client.check(5000); // warm-up
    for (const rate of rates) {
      const seconds = Number(process.env.SECONDS_PER_RATE ?? 8);
      const before = cpu(child.pid!);
      const start = performance.now();
      const pending: Promise<string>[] = [];
      let sent = 0;
      while (sent < rate * seconds) {
        const due = Math.min(
          rate * seconds,
          Math.floor(((performance.now() - start) / 1000) * rate),
        );
        while (sent < due) {
          pending.push(client.check(5000));
          sent++;
        }
        await new Promise((r) => setTimeout(r, Number(process.env.TICK ?? 5)));
      }
      const results = await Promise.all(pending);
      const elapsed = (performance.now() - start) / 1000;
      const used = cpu(child.pid!) - before;
      console.log(
        `${variant} round ${round} ${rate}/s: ${Math.round((used * 1e6) / sent)} µs/call server CPU, ${((used / elapsed) * 100).toFixed(1)}% of a core, ${results.filter((r) => r !== "SERVING").length} failed`,
      );
    }
    client.close();
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}
