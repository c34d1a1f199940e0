// Original file: proto/dkv.proto


export interface StageRequest {
  'kind'?: (string);
  'node'?: (string);
  'address'?: (string);
  'by'?: (string);
}

export interface StageRequest__Output {
  'kind': (string);
  'node': (string);
  'address': (string);
  'by': (string);
}
