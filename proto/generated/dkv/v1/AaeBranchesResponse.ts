// Original file: proto/dkv.proto


export interface AaeBranchesResponse {
  'hashes'?: (Buffer | Uint8Array | string);
}

export interface AaeBranchesResponse__Output {
  'hashes': (Buffer);
}
