// Original file: proto/dkv.proto


export interface AaeObject {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'object'?: (Buffer | Uint8Array | string);
}

export interface AaeObject__Output {
  'bucket': (string);
  'key': (Buffer);
  'object': (Buffer);
}
