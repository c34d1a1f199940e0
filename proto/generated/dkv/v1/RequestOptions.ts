// Original file: proto/dkv.proto

import type { Quorum as _dkv_v1_Quorum, Quorum__Output as _dkv_v1_Quorum__Output } from '../../dkv/v1/Quorum';

export interface RequestOptions {
  'n'?: (number);
  'r'?: (_dkv_v1_Quorum | null);
  'w'?: (_dkv_v1_Quorum | null);
  'dw'?: (_dkv_v1_Quorum | null);
  'pr'?: (_dkv_v1_Quorum | null);
  'pw'?: (_dkv_v1_Quorum | null);
  'strict_quorum'?: (boolean);
}

export interface RequestOptions__Output {
  'n': (number);
  'r': (_dkv_v1_Quorum__Output | null);
  'w': (_dkv_v1_Quorum__Output | null);
  'dw': (_dkv_v1_Quorum__Output | null);
  'pr': (_dkv_v1_Quorum__Output | null);
  'pw': (_dkv_v1_Quorum__Output | null);
  'strict_quorum': (boolean);
}
