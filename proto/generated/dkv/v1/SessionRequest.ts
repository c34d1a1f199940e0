// Original file: proto/dkv.proto

import type { SessionItem as _dkv_v1_SessionItem, SessionItem__Output as _dkv_v1_SessionItem__Output } from '../../dkv/v1/SessionItem';

export interface SessionRequest {
  'items'?: (_dkv_v1_SessionItem)[];
}

export interface SessionRequest__Output {
  'items': (_dkv_v1_SessionItem__Output)[];
}
