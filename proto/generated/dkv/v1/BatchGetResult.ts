// Original file: proto/dkv.proto

import type { ItemStatus as _dkv_v1_ItemStatus, ItemStatus__Output as _dkv_v1_ItemStatus__Output } from '../../dkv/v1/ItemStatus';
import type { GetResponse as _dkv_v1_GetResponse, GetResponse__Output as _dkv_v1_GetResponse__Output } from '../../dkv/v1/GetResponse';

export interface BatchGetResult {
  'status'?: (_dkv_v1_ItemStatus | null);
  'reply'?: (_dkv_v1_GetResponse | null);
}

export interface BatchGetResult__Output {
  'status': (_dkv_v1_ItemStatus__Output | null);
  'reply': (_dkv_v1_GetResponse__Output | null);
}
