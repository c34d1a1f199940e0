// Original file: proto/dkv.proto

import type { ReplicaGetResponse as _dkv_v1_ReplicaGetResponse, ReplicaGetResponse__Output as _dkv_v1_ReplicaGetResponse__Output } from '../../dkv/v1/ReplicaGetResponse';
import type { ReplicaPutResponse as _dkv_v1_ReplicaPutResponse, ReplicaPutResponse__Output as _dkv_v1_ReplicaPutResponse__Output } from '../../dkv/v1/ReplicaPutResponse';
import type { ReplicaCallError as _dkv_v1_ReplicaCallError, ReplicaCallError__Output as _dkv_v1_ReplicaCallError__Output } from '../../dkv/v1/ReplicaCallError';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaCallReply {
  'id'?: (number | string | Long);
  'get'?: (_dkv_v1_ReplicaGetResponse | null);
  'put'?: (_dkv_v1_ReplicaPutResponse | null);
  'error'?: (_dkv_v1_ReplicaCallError | null);
  'result'?: "get"|"put"|"error";
}

export interface ReplicaCallReply__Output {
  'id': (number);
  'get'?: (_dkv_v1_ReplicaGetResponse__Output | null);
  'put'?: (_dkv_v1_ReplicaPutResponse__Output | null);
  'error'?: (_dkv_v1_ReplicaCallError__Output | null);
  'result'?: "get"|"put"|"error";
}
