// The attacker of bench-flood.ts, run as its own process: keeps `connections` anonymous TLS
// connections (no client certificate, no token) open to one node, from `addresses` loopback
// source addresses (127.0.0.2, ...), each sending `callsPerConnection` KV.Get calls (each
// refused UNAUTHENTICATED) and then reconnecting. It sends "flooding" over IPC once the node has
// answered its first call or refused its first connection, so that a loaded machine's slow start
// of this process is not measured as a flood; on "stop" it reports and exits.

import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";

export interface FloodReport {
  readonly connectionsOpened: number;
  /** Connections the node closed before they were set up (bounds at accept, timeouts). */
  readonly connectionsRefused: number;
  readonly callsRefused: number;
  readonly callsOther: number;
}

const EMPTY_GRPC_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

async function main(): Promise<void> {
  const [host, portText, connectionsText, addressesText, callsText] = process.argv.slice(2);
  const port = Number(portText);
  const report = { connectionsOpened: 0, connectionsRefused: 0, callsRefused: 0, callsOther: 0 };
  let stopped = false;
  let announced = false;
  const announce = (): void => {
    if (announced) return;
    announced = true;
    process.send?.("flooding");
  };
  process.on("message", () => {
    stopped = true;
    process.send?.(report, () => process.exit(0));
  });
  const call = (session: http2.ClientHttp2Session): Promise<void> =>
    new Promise((resolve) => {
      const stream = session.request({
        ":method": "POST",
        ":path": "/dkv.v1.KV/Get",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("trailers", (trailers) => {
        if (trailers["grpc-status"] === "16") report.callsRefused += 1;
        else report.callsOther += 1;
      });
      stream.on("response", (headers) => {
        // A trailers-only answer carries the status in the headers.
        if (headers["grpc-status"] === "16") report.callsRefused += 1;
        else if (headers["grpc-status"] !== undefined) report.callsOther += 1;
      });
      stream.on("error", () => undefined);
      stream.on("close", () => {
        announce();
        resolve();
      });
      stream.on("data", () => undefined);
      stream.end(EMPTY_GRPC_MESSAGE);
    });
  const connection = async (index: number): Promise<void> => {
    const localAddress = `127.0.0.${2 + (index % Number(addressesText))}`;
    while (!stopped) {
      const session = http2.connect(`https://${host}:${port}`, {
        createConnection: () =>
          tls.connect({
            socket: net.connect({ host, port, localAddress }),
            ALPNProtocols: ["h2"],
            rejectUnauthorized: false,
          }),
      });
      session.on("error", () => undefined);
      const ready = await new Promise<boolean>((resolve) => {
        session.once("remoteSettings", () => resolve(true));
        session.once("close", () => resolve(false));
      });
      if (!ready) {
        report.connectionsRefused += 1;
        announce();
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      report.connectionsOpened += 1;
      for (let sent = 0; sent < Number(callsText) && !stopped; sent++) await call(session);
      session.destroy();
    }
  };
  await Promise.all(
    Array.from({ length: Number(connectionsText) }, (_, index) => connection(index)),
  );
}

void main();
