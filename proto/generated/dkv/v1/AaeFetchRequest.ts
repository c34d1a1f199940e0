// Original file: proto/dkv.proto

import type { AaeKeyRef as _dkv_v1_AaeKeyRef, AaeKeyRef__Output as _dkv_v1_AaeKeyRef__Output } from '../../dkv/v1/AaeKeyRef';

export interface AaeFetchRequest {
  'keys'?: (_dkv_v1_AaeKeyRef)[];
}

export interface AaeFetchRequest__Output {
  'keys': (_dkv_v1_AaeKeyRef__Output)[];
}
