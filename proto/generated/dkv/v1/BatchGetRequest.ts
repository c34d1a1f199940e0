// Original file: proto/dkv.proto

import type { GetRequest as _dkv_v1_GetRequest, GetRequest__Output as _dkv_v1_GetRequest__Output } from '../../dkv/v1/GetRequest';

export interface BatchGetRequest {
  'items'?: (_dkv_v1_GetRequest)[];
}

export interface BatchGetRequest__Output {
  'items': (_dkv_v1_GetRequest__Output)[];
}
