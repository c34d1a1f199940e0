// Original file: proto/dkv.proto


export interface AaeLeavesResponse {
  'hashes'?: (Buffer | Uint8Array | string);
}

export interface AaeLeavesResponse__Output {
  'hashes': (Buffer);
}
