// Original file: proto/dkv.proto


export interface AaeRootsRequest {
  'partitions'?: (number)[];
  'partition_count'?: (number);
  'branch_count'?: (number);
  'leaves_per_branch'?: (number);
}

export interface AaeRootsRequest__Output {
  'partitions': (number)[];
  'partition_count': (number);
  'branch_count': (number);
  'leaves_per_branch': (number);
}
