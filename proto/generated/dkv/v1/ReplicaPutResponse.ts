// Original file: proto/dkv.proto


export interface ReplicaPutResponse {
  'durable'?: (boolean);
}

export interface ReplicaPutResponse__Output {
  'durable': (boolean);
}
