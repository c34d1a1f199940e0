// Original file: proto/dkv.proto


export interface ReplicaGetResponse {
  'found'?: (boolean);
  'object'?: (Buffer | Uint8Array | string);
}

export interface ReplicaGetResponse__Output {
  'found': (boolean);
  'object': (Buffer);
}
