// Original file: proto/dkv.proto


export interface ReplicaGetResponse {
  'found'?: (boolean);
  'object'?: (Buffer | Uint8Array | string);
  'same'?: (boolean);
}

export interface ReplicaGetResponse__Output {
  'found': (boolean);
  'object': (Buffer);
  'same': (boolean);
}
