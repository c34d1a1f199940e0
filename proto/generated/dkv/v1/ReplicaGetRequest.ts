// Original file: proto/dkv.proto


export interface ReplicaGetRequest {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'digest'?: (Buffer | Uint8Array | string);
}

export interface ReplicaGetRequest__Output {
  'bucket': (string);
  'key': (Buffer);
  'digest': (Buffer);
}
