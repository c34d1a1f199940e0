// Original file: proto/dkv.proto

import type { UserGrant as _dkv_v1_UserGrant, UserGrant__Output as _dkv_v1_UserGrant__Output } from '../../dkv/v1/UserGrant';
import type { Long } from '@grpc/proto-loader';

export interface UserInfo {
  'user'?: (string);
  'grants'?: (_dkv_v1_UserGrant)[];
  'token_count'?: (number);
  'revision'?: (number | string | Long);
}

export interface UserInfo__Output {
  'user': (string);
  'grants': (_dkv_v1_UserGrant__Output)[];
  'token_count': (number);
  'revision': (number);
}
