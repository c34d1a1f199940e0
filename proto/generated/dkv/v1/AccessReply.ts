// Original file: proto/dkv.proto

import type { UserInfo as _dkv_v1_UserInfo, UserInfo__Output as _dkv_v1_UserInfo__Output } from '../../dkv/v1/UserInfo';

export interface AccessReply {
  'users'?: (_dkv_v1_UserInfo)[];
  'token'?: (string);
  'digest'?: (string);
}

export interface AccessReply__Output {
  'users': (_dkv_v1_UserInfo__Output)[];
  'token': (string);
  'digest': (string);
}
