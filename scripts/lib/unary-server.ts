// The server process of scripts/bench-unary.ts: the health service only, TLS from a local
// cluster's cert dir, as bare grpc-js, as dkv's bounded server (admission, status and
// malformed-request interceptors), as that plus dkv's call guard, or, for the floor under all
// of them, as Node's HTTP/2 alone answering every call with the same gRPC reply (no grpc-js).
// With `plaintext` after CERT_DIR, no TLS (as a node started with --insecure).
// Run: npx tsx scripts/lib/unary-server.ts http2|bare|bounded|guard PORT CERT_DIR [plaintext]
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { createBoundedServer } from "../../node/wire/bounded-server.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { SYSTEM_CLOCK } from "../../node/clock.js";
import { channelOptions } from "../../node/peer-clients.js";
import { callGuard } from "../../node/security/call-guard.js";

const [variant = "bare", port = "0", certDir = "", transport = "tls"] = process.argv.slice(2);
if (transport !== "tls" && transport !== "plaintext") {
  throw new Error(`transport must be tls or plaintext, got ${transport}`);
}
const plaintext = transport === "plaintext";
const file = (name: string) => readFileSync(path.join(certDir, name));
const credentials = plaintext
  ? grpc.ServerCredentials.createInsecure()
  : grpc.ServerCredentials.createSsl(
      file("ca.crt"),
      [{ cert_chain: file("node-n1.crt"), private_key: file("node-n1.key") }],
      false,
    );
if (variant === "http2") serveHttp2();
else serveGrpc();

/**
 * Node's HTTP/2 server with the same certificate, answering every stream, once its request has
 * ended, with a gRPC HealthCheckResponse of SERVING (field 1 = 1, after the 5-byte gRPC frame
 * header) and an OK status in trailers: what a gRPC server cannot do with less.
 */
function serveHttp2(): void {
  const reply = Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]);
  const server = plaintext
    ? http2.createServer()
    : http2.createSecureServer({
        ca: file("ca.crt"),
        cert: file("node-n1.crt"),
        key: file("node-n1.key"),
      });
  server.on("stream", (stream) => {
    stream.on("data", () => {});
    stream.on("end", () => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc+proto" },
        { waitForTrailers: true },
      );
      stream.once("wantTrailers", () =>
        stream.sendTrailers({ "grpc-status": "0", "grpc-message": "OK" }),
      );
      stream.end(reply);
    });
  });
  server.listen(Number(port), "127.0.0.1", () => {
    const address = server.address();
    console.log(
      `listening ${typeof address === "object" && address !== null ? address.port : port}`,
    );
  });
  process.on("SIGTERM", () => {
    server.close();
    // A client session still open would hold the process: exit once the close had its turn.
    setTimeout(() => process.exit(0), 200).unref();
  });
}

function serveGrpc(): void {
  let server: grpc.Server;
  if (variant === "bare")
    server = new grpc.Server(channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax));
  else {
    const guard =
      variant === "guard"
        ? callGuard({
            isMember: () => true,
            access: { userOfToken: async () => ({ refused: "no" }), refusal: () => undefined },
          })
        : undefined;
    server = createBoundedServer(
      DEFAULT_LIMITS,
      channelOptions(DEFAULT_LIMITS.grpcMessageBytesMax),
      SYSTEM_CLOCK,
      guard === undefined ? {} : { guard },
    );
  }
  new HealthImplementation({ "": "SERVING" }).addToServer(server);
  server.bindAsync(`127.0.0.1:${port}`, credentials, (error, bound) => {
    if (error) throw error;
    console.log(`listening ${bound}`);
  });
  process.on("SIGTERM", () => server.forceShutdown());
}
