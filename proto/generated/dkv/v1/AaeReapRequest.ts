// Original file: proto/dkv.proto

import type { AaeReapKey as _dkv_v1_AaeReapKey, AaeReapKey__Output as _dkv_v1_AaeReapKey__Output } from '../../dkv/v1/AaeReapKey';

export interface AaeReapRequest {
  'remove'?: (boolean);
  'keys'?: (_dkv_v1_AaeReapKey)[];
}

export interface AaeReapRequest__Output {
  'remove': (boolean);
  'keys': (_dkv_v1_AaeReapKey__Output)[];
}
