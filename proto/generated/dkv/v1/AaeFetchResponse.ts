// Original file: proto/dkv.proto

import type { AaeFetched as _dkv_v1_AaeFetched, AaeFetched__Output as _dkv_v1_AaeFetched__Output } from '../../dkv/v1/AaeFetched';

export interface AaeFetchResponse {
  'objects'?: (_dkv_v1_AaeFetched)[];
}

export interface AaeFetchResponse__Output {
  'objects': (_dkv_v1_AaeFetched__Output)[];
}
