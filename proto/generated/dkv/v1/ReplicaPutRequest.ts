// Original file: proto/dkv.proto

import type { ReplicaPutReason as _dkv_v1_ReplicaPutReason, ReplicaPutReason__Output as _dkv_v1_ReplicaPutReason__Output } from '../../dkv/v1/ReplicaPutReason';

export interface ReplicaPutRequest {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'object'?: (Buffer | Uint8Array | string);
  'durable'?: (boolean);
  'reason'?: (_dkv_v1_ReplicaPutReason);
  'hint_for'?: (string);
}

export interface ReplicaPutRequest__Output {
  'bucket': (string);
  'key': (Buffer);
  'object': (Buffer);
  'durable': (boolean);
  'reason': (_dkv_v1_ReplicaPutReason__Output);
  'hint_for': (string);
}
