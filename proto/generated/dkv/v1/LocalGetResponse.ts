// Original file: proto/dkv.proto

import type { Sibling as _dkv_v1_Sibling, Sibling__Output as _dkv_v1_Sibling__Output } from '../../dkv/v1/Sibling';

export interface LocalGetResponse {
  'found'?: (boolean);
  'siblings'?: (_dkv_v1_Sibling)[];
  'context'?: (Buffer | Uint8Array | string);
}

export interface LocalGetResponse__Output {
  'found': (boolean);
  'siblings': (_dkv_v1_Sibling__Output)[];
  'context': (Buffer);
}
