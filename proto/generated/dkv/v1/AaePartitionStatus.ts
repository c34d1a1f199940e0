// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface AaePartitionStatus {
  'partition'?: (number);
  'last_exchange_ms'?: (number | string | Long);
  'last_peer'?: (string);
  'keys_repaired_last'?: (number | string | Long);
  'keys_repaired_total'?: (number | string | Long);
  'bytes_last'?: (number | string | Long);
  'bytes_total'?: (number | string | Long);
  'exchanges'?: (number | string | Long);
  'tree_keys'?: (number | string | Long);
}

export interface AaePartitionStatus__Output {
  'partition': (number);
  'last_exchange_ms': (number);
  'last_peer': (string);
  'keys_repaired_last': (number);
  'keys_repaired_total': (number);
  'bytes_last': (number);
  'bytes_total': (number);
  'exchanges': (number);
  'tree_keys': (number);
}
