// One unary call made on the first of several nodes that is reachable: the CLI's way to ask
// "any node". Only UNAVAILABLE moves on to the next address; any other status is the node's
// answer (a refused change, a stale plan) and propagates for the exit status.

import * as grpc from "@grpc/grpc-js";

/** A client that can be closed, as every generated gRPC client can. */
interface Closable {
  close(): void;
}

/** Makes `call` on the first reachable of `addresses`; resolves with its reply and address. */
export async function callFirstReachable<Client extends Closable, Reply>(
  addresses: readonly string[],
  timeoutMs: number,
  connect: (address: string) => Client,
  call: (
    client: Client,
    options: grpc.CallOptions,
    done: (error: grpc.ServiceError | null, reply?: Reply) => void,
  ) => void,
): Promise<{ reply: Reply; address: string }> {
  let lastError: unknown = new Error("no node address to ask");
  for (const address of addresses) {
    const client = connect(address);
    try {
      const reply = await new Promise<Reply>((resolve, reject) =>
        call(client, { deadline: Date.now() + timeoutMs }, (error, value) =>
          error !== null || value === undefined ? reject(error) : resolve(value),
        ),
      );
      return { reply, address };
    } catch (error) {
      lastError = error;
      if ((error as grpc.ServiceError).code !== grpc.status.UNAVAILABLE) break;
    } finally {
      client.close();
    }
  }
  throw lastError;
}
