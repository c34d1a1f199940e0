// Original file: proto/dkv.proto

import type { BatchPutResult as _dkv_v1_BatchPutResult, BatchPutResult__Output as _dkv_v1_BatchPutResult__Output } from '../../dkv/v1/BatchPutResult';

export interface BatchPutResponse {
  'results'?: (_dkv_v1_BatchPutResult)[];
}

export interface BatchPutResponse__Output {
  'results': (_dkv_v1_BatchPutResult__Output)[];
}
