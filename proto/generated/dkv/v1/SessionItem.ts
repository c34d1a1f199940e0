// Original file: proto/dkv.proto

import type { GetRequest as _dkv_v1_GetRequest, GetRequest__Output as _dkv_v1_GetRequest__Output } from '../../dkv/v1/GetRequest';
import type { PutRequest as _dkv_v1_PutRequest, PutRequest__Output as _dkv_v1_PutRequest__Output } from '../../dkv/v1/PutRequest';
import type { DeleteRequest as _dkv_v1_DeleteRequest, DeleteRequest__Output as _dkv_v1_DeleteRequest__Output } from '../../dkv/v1/DeleteRequest';
import type { Long } from '@grpc/proto-loader';

export interface SessionItem {
  'id'?: (number | string | Long);
  'timeout_ms'?: (number);
  'get'?: (_dkv_v1_GetRequest | null);
  'put'?: (_dkv_v1_PutRequest | null);
  'delete'?: (_dkv_v1_DeleteRequest | null);
  'op'?: "get"|"put"|"delete";
}

export interface SessionItem__Output {
  'id': (number);
  'timeout_ms': (number);
  'get'?: (_dkv_v1_GetRequest__Output | null);
  'put'?: (_dkv_v1_PutRequest__Output | null);
  'delete'?: (_dkv_v1_DeleteRequest__Output | null);
  'op'?: "get"|"put"|"delete";
}
