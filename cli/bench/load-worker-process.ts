// Entry point of a load worker process, forked by `dkv bench` with an IPC channel: it waits
// for its configuration, connects, waits for the start, runs, sends its result and exits.
// It exits as well when the bench process goes away (the channel closes).

import { LoadWorker } from "./load-worker.js";
import type { FromWorker, ToWorker } from "./worker-messages.js";

function send(message: FromWorker): void {
  process.send?.(message);
}

let worker: LoadWorker | undefined;

process.on("disconnect", () => process.exit(0));
// Ctrl-C reaches the whole process group; the bench process decides when workers stop.
process.on("SIGINT", () => undefined);

process.on("message", (message: ToWorker) => {
  if (message.type === "configure") {
    const configured = new LoadWorker(message.config);
    worker = configured;
    configured.connect().then(
      () => send({ type: "ready" }),
      (error: unknown) =>
        fail(`cannot reach ${message.config.addresses.join(",")}: ${text(error)}`),
    );
    return;
  }
  if (worker === undefined) {
    fail("start before configure");
    return;
  }
  const running = worker;
  running.run(message.startAtEpochMs, send).then(
    (result) => {
      running.close();
      process.send?.(result, () => process.disconnect());
    },
    (error: unknown) => fail(text(error)),
  );
});

function fail(message: string): void {
  process.send?.({ type: "failed", message } satisfies FromWorker, () => process.disconnect());
}

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
