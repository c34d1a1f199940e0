// Original file: proto/dkv.proto

import type { ReplicaCall as _dkv_v1_ReplicaCall, ReplicaCall__Output as _dkv_v1_ReplicaCall__Output } from '../../dkv/v1/ReplicaCall';

export interface ReplicaCallBatch {
  'calls'?: (_dkv_v1_ReplicaCall)[];
}

export interface ReplicaCallBatch__Output {
  'calls': (_dkv_v1_ReplicaCall__Output)[];
}
