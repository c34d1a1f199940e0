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

/** A message type in a package definition: its descriptor's fields, as proto-loader gives them. */
interface MessageDescriptor {
  readonly type: {
    readonly field: readonly { name: string; label: string; type: string; typeName: string }[];
  };
}

/**
 * Runs every method's request and response codecs once, with every message-typed field set, so
 * that protobufjs generates its encoders and decoders now. It does so lazily on a type's first
 * use otherwise: about 40 ms of a node's CPU in the first second it takes part in a transfer, or
 * serves its first calls, beside the foreground load.
 */
export function warmCodecs(definition: protoLoader.PackageDefinition): void {
  const sample = (message: MessageDescriptor, depth: number): Record<string, unknown> => {
    const object: Record<string, unknown> = {};
    if (depth > 6) return object;
    for (const field of message.type.field) {
      if (field.type !== "TYPE_MESSAGE") continue;
      const nested = (definition[`dkv.v1.${field.typeName}`] ?? definition[field.typeName]) as
        MessageDescriptor | undefined;
      if (nested?.type === undefined) continue;
      const value = sample(nested, depth + 1);
      object[field.name] = field.label === "LABEL_REPEATED" ? [value] : value;
    }
    return object;
  };
  for (const service of Object.values(definition)) {
    if ("format" in service) continue;
    for (const method of Object.values(service as protoLoader.ServiceDefinition)) {
      const request = method.requestSerialize(sample(method.requestType as MessageDescriptor, 0));
      method.requestDeserialize(request);
      const response = method.responseSerialize(
        sample(method.responseType as MessageDescriptor, 0),
      );
      method.responseDeserialize(response);
    }
  }
}
