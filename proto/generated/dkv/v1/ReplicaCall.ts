// Original file: proto/dkv.proto

import type { ReplicaGetRequest as _dkv_v1_ReplicaGetRequest, ReplicaGetRequest__Output as _dkv_v1_ReplicaGetRequest__Output } from '../../dkv/v1/ReplicaGetRequest';
import type { ReplicaPutRequest as _dkv_v1_ReplicaPutRequest, ReplicaPutRequest__Output as _dkv_v1_ReplicaPutRequest__Output } from '../../dkv/v1/ReplicaPutRequest';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaCall {
  'id'?: (number | string | Long);
  'deadline_ms'?: (number | string | Long);
  'get'?: (_dkv_v1_ReplicaGetRequest | null);
  'put'?: (_dkv_v1_ReplicaPutRequest | null);
  'call'?: "get"|"put";
}

export interface ReplicaCall__Output {
  'id': (number);
  'deadline_ms': (number);
  'get'?: (_dkv_v1_ReplicaGetRequest__Output | null);
  'put'?: (_dkv_v1_ReplicaPutRequest__Output | null);
  'call'?: "get"|"put";
}
