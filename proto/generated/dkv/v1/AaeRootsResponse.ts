// Original file: proto/dkv.proto


export interface AaeRootsResponse {
  'partitions'?: (number)[];
  'roots'?: (Buffer | Uint8Array | string);
}

export interface AaeRootsResponse__Output {
  'partitions': (number)[];
  'roots': (Buffer);
}
