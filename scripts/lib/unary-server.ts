// The server process of scripts/bench-unary.ts: the health service only, TLS from a local
// cluster's cert dir, as bare grpc-js, as dkv's bounded server (admission, status and
// malformed-request interceptors), or as that plus dkv's call guard.
// Run: npx tsx scripts/lib/unary-server.ts bare|bounded|guard PORT CERT_DIR
import { readFileSync } from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { createBoundedServer } from "../../node/wire/bounded-server.js";
import { DEFAULT_LIMITS } from "../../node/core/limits.js";
import { SYSTEM_CLOCK } from "../../node/clock.js";
import { channelOptions } from "../../node/peer-clients.js";
import { callGuard } from "../../node/security/call-guard.js";

const [variant = "bare", port = "0", certDir = ""] = process.argv.slice(2);
const file = (name: string) => readFileSync(path.join(certDir, name));
const credentials = grpc.ServerCredentials.createSsl(
  file("ca.crt"),
  [{ cert_chain: file("node-n1.crt"), private_key: file("node-n1.key") }],
  false,
);
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
