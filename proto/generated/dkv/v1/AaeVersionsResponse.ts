// Original file: proto/dkv.proto


export interface AaeVersionsResponse {
  'versions'?: (Buffer | Uint8Array | string)[];
}

export interface AaeVersionsResponse__Output {
  'versions': (Buffer)[];
}
