// Original file: proto/dkv.proto


export interface AaeFetched {
  'found'?: (boolean);
  'object'?: (Buffer | Uint8Array | string);
}

export interface AaeFetched__Output {
  'found': (boolean);
  'object': (Buffer);
}
