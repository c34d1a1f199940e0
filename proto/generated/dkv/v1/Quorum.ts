// Original file: proto/dkv.proto

import type { QuorumSymbol as _dkv_v1_QuorumSymbol, QuorumSymbol__Output as _dkv_v1_QuorumSymbol__Output } from '../../dkv/v1/QuorumSymbol';

export interface Quorum {
  'count'?: (number);
  'symbol'?: (_dkv_v1_QuorumSymbol);
  'value'?: "count"|"symbol";
}

export interface Quorum__Output {
  'count'?: (number);
  'symbol'?: (_dkv_v1_QuorumSymbol__Output);
  'value'?: "count"|"symbol";
}
