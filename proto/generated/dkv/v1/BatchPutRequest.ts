// Original file: proto/dkv.proto

import type { PutRequest as _dkv_v1_PutRequest, PutRequest__Output as _dkv_v1_PutRequest__Output } from '../../dkv/v1/PutRequest';

export interface BatchPutRequest {
  'items'?: (_dkv_v1_PutRequest)[];
}

export interface BatchPutRequest__Output {
  'items': (_dkv_v1_PutRequest__Output)[];
}
