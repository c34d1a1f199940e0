// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface MemberStatus {
  'node_id'?: (string);
  'address'?: (string);
  'up'?: (boolean);
  'error'?: (string);
  'round_trip_ms'?: (number | string);
  'partitions'?: (number)[];
  'phi'?: (number | string);
  'hints_pending'?: (number | string | Long);
  'hint_bytes_pending'?: (number | string | Long);
}

export interface MemberStatus__Output {
  'node_id': (string);
  'address': (string);
  'up': (boolean);
  'error': (string);
  'round_trip_ms': (number);
  'partitions': (number)[];
  'phi': (number);
  'hints_pending': (number);
  'hint_bytes_pending': (number);
}
