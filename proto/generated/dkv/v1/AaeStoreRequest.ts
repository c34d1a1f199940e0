// Original file: proto/dkv.proto

import type { AaeObject as _dkv_v1_AaeObject, AaeObject__Output as _dkv_v1_AaeObject__Output } from '../../dkv/v1/AaeObject';

export interface AaeStoreRequest {
  'objects'?: (_dkv_v1_AaeObject)[];
}

export interface AaeStoreRequest__Output {
  'objects': (_dkv_v1_AaeObject__Output)[];
}
