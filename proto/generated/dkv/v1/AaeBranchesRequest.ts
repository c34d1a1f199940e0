// Original file: proto/dkv.proto


export interface AaeBranchesRequest {
  'partitions'?: (number)[];
}

export interface AaeBranchesRequest__Output {
  'partitions': (number)[];
}
