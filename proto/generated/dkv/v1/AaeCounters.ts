// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface AaeCounters {
  'exchanges'?: (number | string | Long);
  'exchanges_failed'?: (number | string | Long);
  'exchanges_skipped'?: (number | string | Long);
  'differences_found'?: (number | string | Long);
  'keys_repaired'?: (number | string | Long);
  'bytes_sent'?: (number | string | Long);
  'bytes_received'?: (number | string | Long);
  'tombstones_reaped'?: (number | string | Long);
  'reaps_declined'?: (number | string | Long);
  'tree_maintenance_us'?: (number | string | Long);
}

export interface AaeCounters__Output {
  'exchanges': (number);
  'exchanges_failed': (number);
  'exchanges_skipped': (number);
  'differences_found': (number);
  'keys_repaired': (number);
  'bytes_sent': (number);
  'bytes_received': (number);
  'tombstones_reaped': (number);
  'reaps_declined': (number);
  'tree_maintenance_us': (number);
}
