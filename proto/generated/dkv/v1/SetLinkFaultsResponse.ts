// Original file: proto/dkv.proto

import type { LinkFault as _dkv_v1_LinkFault, LinkFault__Output as _dkv_v1_LinkFault__Output } from '../../dkv/v1/LinkFault';

export interface SetLinkFaultsResponse {
  'faults'?: (_dkv_v1_LinkFault)[];
}

export interface SetLinkFaultsResponse__Output {
  'faults': (_dkv_v1_LinkFault__Output)[];
}
