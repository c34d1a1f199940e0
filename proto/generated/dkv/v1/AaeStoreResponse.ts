// Original file: proto/dkv.proto


export interface AaeStoreResponse {
  'changed'?: (number);
}

export interface AaeStoreResponse__Output {
  'changed': (number);
}
