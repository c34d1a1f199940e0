// Original file: proto/dkv.proto

import type { SessionResult as _dkv_v1_SessionResult, SessionResult__Output as _dkv_v1_SessionResult__Output } from '../../dkv/v1/SessionResult';

export interface SessionResponse {
  'results'?: (_dkv_v1_SessionResult)[];
}

export interface SessionResponse__Output {
  'results': (_dkv_v1_SessionResult__Output)[];
}
