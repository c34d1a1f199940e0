// Original file: proto/dkv.proto


export interface AaeKeyRef {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
}

export interface AaeKeyRef__Output {
  'bucket': (string);
  'key': (Buffer);
}
