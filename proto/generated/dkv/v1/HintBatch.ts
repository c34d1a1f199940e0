// Original file: proto/dkv.proto

import type { HintItem as _dkv_v1_HintItem, HintItem__Output as _dkv_v1_HintItem__Output } from '../../dkv/v1/HintItem';

export interface HintBatch {
  'target'?: (string);
  'items'?: (_dkv_v1_HintItem)[];
}

export interface HintBatch__Output {
  'target': (string);
  'items': (_dkv_v1_HintItem__Output)[];
}
