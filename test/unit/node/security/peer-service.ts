// A one-method raw gRPC service for the TLS tests: bytes in, bytes out, no codec, so a test sees
// only what the transport and its credentials do.

import type * as grpc from "@grpc/grpc-js";

export const PATH = "/dkv.test.Peer/WhoAmI";
export const same = (bytes: Buffer): Buffer => bytes;
export const SERVICE: grpc.ServiceDefinition = {
  WhoAmI: {
    path: PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  },
};
