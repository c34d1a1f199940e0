// Original file: proto/dkv.proto


export interface AaeKeysRequest {
  'partitions'?: (number)[];
  'leaves'?: (number)[];
}

export interface AaeKeysRequest__Output {
  'partitions': (number)[];
  'leaves': (number)[];
}
