// Original file: proto/dkv.proto

import type { AaeCounters as _dkv_v1_AaeCounters, AaeCounters__Output as _dkv_v1_AaeCounters__Output } from '../../dkv/v1/AaeCounters';
import type { AaePartitionStatus as _dkv_v1_AaePartitionStatus, AaePartitionStatus__Output as _dkv_v1_AaePartitionStatus__Output } from '../../dkv/v1/AaePartitionStatus';
import type { Long } from '@grpc/proto-loader';

export interface AaeStatusResponse {
  'node_id'?: (string);
  'interval_ms'?: (number | string | Long);
  'trees_ready'?: (boolean);
  'tree_keys'?: (number | string | Long);
  'counters'?: (_dkv_v1_AaeCounters | null);
  'partitions'?: (_dkv_v1_AaePartitionStatus)[];
  'repair_keys_per_second'?: (number | string);
  'tombstones'?: (number | string | Long);
  'tombstone_grace_ms'?: (number | string | Long);
  'reap_blocked'?: (string);
  'process_cpu_us'?: (number | string | Long);
}

export interface AaeStatusResponse__Output {
  'node_id': (string);
  'interval_ms': (number);
  'trees_ready': (boolean);
  'tree_keys': (number);
  'counters': (_dkv_v1_AaeCounters__Output | null);
  'partitions': (_dkv_v1_AaePartitionStatus__Output)[];
  'repair_keys_per_second': (number);
  'tombstones': (number);
  'tombstone_grace_ms': (number);
  'reap_blocked': (string);
  'process_cpu_us': (number);
}
