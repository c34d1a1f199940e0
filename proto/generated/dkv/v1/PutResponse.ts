// Original file: proto/dkv.proto

import type { Sibling as _dkv_v1_Sibling, Sibling__Output as _dkv_v1_Sibling__Output } from '../../dkv/v1/Sibling';

export interface PutResponse {
  'context'?: (Buffer | Uint8Array | string);
  'siblings'?: (_dkv_v1_Sibling)[];
  'vtag'?: (string);
}

export interface PutResponse__Output {
  'context': (Buffer);
  'siblings': (_dkv_v1_Sibling__Output)[];
  'vtag': (string);
}
