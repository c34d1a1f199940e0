// Original file: proto/dkv.proto

import type { ItemStatus as _dkv_v1_ItemStatus, ItemStatus__Output as _dkv_v1_ItemStatus__Output } from '../../dkv/v1/ItemStatus';
import type { PutResponse as _dkv_v1_PutResponse, PutResponse__Output as _dkv_v1_PutResponse__Output } from '../../dkv/v1/PutResponse';

export interface BatchPutResult {
  'status'?: (_dkv_v1_ItemStatus | null);
  'reply'?: (_dkv_v1_PutResponse | null);
}

export interface BatchPutResult__Output {
  'status': (_dkv_v1_ItemStatus__Output | null);
  'reply': (_dkv_v1_PutResponse__Output | null);
}
