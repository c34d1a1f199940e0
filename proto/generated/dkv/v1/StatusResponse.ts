// Original file: proto/dkv.proto

import type { MemberStatus as _dkv_v1_MemberStatus, MemberStatus__Output as _dkv_v1_MemberStatus__Output } from '../../dkv/v1/MemberStatus';
import type { IncomingTransfer as _dkv_v1_IncomingTransfer, IncomingTransfer__Output as _dkv_v1_IncomingTransfer__Output } from '../../dkv/v1/IncomingTransfer';
import type { Long } from '@grpc/proto-loader';

export interface StatusResponse {
  'node_id'?: (string);
  'address'?: (string);
  'partition_count'?: (number);
  'default_n'?: (number);
  'storage_engine'?: (string);
  'data_dir'?: (string);
  'keys_stored'?: (number | string | Long);
  'started_at_ms'?: (number | string | Long);
  'members'?: (_dkv_v1_MemberStatus)[];
  'corrupt_records'?: (number | string | Long);
  'dropped_peers'?: (string)[];
  'recent_requests'?: (number | string | Long);
  'recent_p50_ms'?: (number | string);
  'recent_p99_ms'?: (number | string);
  'recent_window_ms'?: (number);
  'metrics_address'?: (string);
  'layout_version'?: (number | string | Long);
  'layout_in_transition'?: (boolean);
  'member_state'?: (string);
  'incoming_transfers'?: (_dkv_v1_IncomingTransfer)[];
  'handover_partitions_pending'?: (number);
  'fault_injection_enabled'?: (boolean);
  'security'?: (string);
  'hints_pending_total'?: (number | string | Long);
}

export interface StatusResponse__Output {
  'node_id': (string);
  'address': (string);
  'partition_count': (number);
  'default_n': (number);
  'storage_engine': (string);
  'data_dir': (string);
  'keys_stored': (number);
  'started_at_ms': (number);
  'members': (_dkv_v1_MemberStatus__Output)[];
  'corrupt_records': (number);
  'dropped_peers': (string)[];
  'recent_requests': (number);
  'recent_p50_ms': (number);
  'recent_p99_ms': (number);
  'recent_window_ms': (number);
  'metrics_address': (string);
  'layout_version': (number);
  'layout_in_transition': (boolean);
  'member_state': (string);
  'incoming_transfers': (_dkv_v1_IncomingTransfer__Output)[];
  'handover_partitions_pending': (number);
  'fault_injection_enabled': (boolean);
  'security': (string);
  'hints_pending_total': (number);
}
