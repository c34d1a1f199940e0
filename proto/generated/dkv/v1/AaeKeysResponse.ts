// Original file: proto/dkv.proto

import type { AaeKeyVersion as _dkv_v1_AaeKeyVersion, AaeKeyVersion__Output as _dkv_v1_AaeKeyVersion__Output } from '../../dkv/v1/AaeKeyVersion';

export interface AaeKeysResponse {
  'leaves_done'?: (number);
  'keys'?: (_dkv_v1_AaeKeyVersion)[];
}

export interface AaeKeysResponse__Output {
  'leaves_done': (number);
  'keys': (_dkv_v1_AaeKeyVersion__Output)[];
}
