// Original file: proto/dkv.proto


export interface AaeKeyVersion {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'version'?: (Buffer | Uint8Array | string);
}

export interface AaeKeyVersion__Output {
  'bucket': (string);
  'key': (Buffer);
  'version': (Buffer);
}
