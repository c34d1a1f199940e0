// Original file: proto/dkv.proto

import type { ReplicaCallReply as _dkv_v1_ReplicaCallReply, ReplicaCallReply__Output as _dkv_v1_ReplicaCallReply__Output } from '../../dkv/v1/ReplicaCallReply';

export interface ReplicaReplyBatch {
  'replies'?: (_dkv_v1_ReplicaCallReply)[];
}

export interface ReplicaReplyBatch__Output {
  'replies': (_dkv_v1_ReplicaCallReply__Output)[];
}
