// Loads proto/dkv.proto at run time for grpc-js, with the same options that
// proto-loader-gen-types used for proto/generated/ (see the "proto" script in package.json).

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as protoLoader from "@grpc/proto-loader";
import * as grpc from "@grpc/grpc-js";
import type { ProtoGrpcType } from "./generated/dkv.js";

/** Options shared with the code generator; changing one means regenerating the types. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The absolute path of dkv.proto, from source (proto/) or from the build (dist/proto/). */
export function protoPath(): string {
  for (const relative of ["./dkv.proto", "../../proto/dkv.proto"]) {
    const candidate = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("proto/dkv.proto not found next to the sources or the build");
}

let cached: { definition: protoLoader.PackageDefinition; grpcObject: ProtoGrpcType } | undefined;

/** The loaded package definition (for reflection) and the typed gRPC object (for services). */
export function loadProto(): {
  definition: protoLoader.PackageDefinition;
  grpcObject: ProtoGrpcType;
} {
  if (cached === undefined) {
    const definition = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
    const grpcObject = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
    cached = { definition, grpcObject };
  }
  return cached;
}
