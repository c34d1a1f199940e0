// Original file: proto/dkv.proto

import type { BatchGetResult as _dkv_v1_BatchGetResult, BatchGetResult__Output as _dkv_v1_BatchGetResult__Output } from '../../dkv/v1/BatchGetResult';

export interface BatchGetResponse {
  'results'?: (_dkv_v1_BatchGetResult)[];
}

export interface BatchGetResponse__Output {
  'results': (_dkv_v1_BatchGetResult__Output)[];
}
