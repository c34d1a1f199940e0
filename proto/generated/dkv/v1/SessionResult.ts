// Original file: proto/dkv.proto

import type { ItemStatus as _dkv_v1_ItemStatus, ItemStatus__Output as _dkv_v1_ItemStatus__Output } from '../../dkv/v1/ItemStatus';
import type { GetResponse as _dkv_v1_GetResponse, GetResponse__Output as _dkv_v1_GetResponse__Output } from '../../dkv/v1/GetResponse';
import type { PutResponse as _dkv_v1_PutResponse, PutResponse__Output as _dkv_v1_PutResponse__Output } from '../../dkv/v1/PutResponse';
import type { DeleteResponse as _dkv_v1_DeleteResponse, DeleteResponse__Output as _dkv_v1_DeleteResponse__Output } from '../../dkv/v1/DeleteResponse';
import type { Long } from '@grpc/proto-loader';

export interface SessionResult {
  'id'?: (number | string | Long);
  'status'?: (_dkv_v1_ItemStatus | null);
  'get'?: (_dkv_v1_GetResponse | null);
  'put'?: (_dkv_v1_PutResponse | null);
  'delete'?: (_dkv_v1_DeleteResponse | null);
  'reply'?: "get"|"put"|"delete";
}

export interface SessionResult__Output {
  'id': (number);
  'status': (_dkv_v1_ItemStatus__Output | null);
  'get'?: (_dkv_v1_GetResponse__Output | null);
  'put'?: (_dkv_v1_PutResponse__Output | null);
  'delete'?: (_dkv_v1_DeleteResponse__Output | null);
  'reply'?: "get"|"put"|"delete";
}
