// Original file: proto/dkv.proto


export interface AaeLeavesRequest {
  'partitions'?: (number)[];
  'branches'?: (number)[];
}

export interface AaeLeavesRequest__Output {
  'partitions': (number)[];
  'branches': (number)[];
}
