// Entry point of the echo baseline server process, forked by `dkv bench` with an IPC channel
// so that the server does not share the client's CPU thread. Message in: { valueBytes }.
// Message out: { address } once it listens. Exits when the bench process goes away.

import { startEchoServer } from "./echo-server.js";

process.on("disconnect", () => process.exit(0));
// Ctrl-C reaches the whole process group; the bench process decides when the server stops.
process.on("SIGINT", () => undefined);

process.once("message", (message: { valueBytes: number }) => {
  startEchoServer({ host: "127.0.0.1", port: 0, valueBytes: message.valueBytes }).then(
    (server) => process.send?.({ address: server.address }),
    (error: unknown) => {
      process.send?.({ error: error instanceof Error ? error.message : String(error) }, () =>
        process.exit(1),
      );
    },
  );
});
