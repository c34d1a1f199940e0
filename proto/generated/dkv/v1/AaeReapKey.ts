// Original file: proto/dkv.proto


export interface AaeReapKey {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'object'?: (Buffer | Uint8Array | string);
}

export interface AaeReapKey__Output {
  'bucket': (string);
  'key': (Buffer);
  'object': (Buffer);
}
