// Original file: proto/dkv.proto

export const ReplicaPutReason = {
  REPLICA_PUT_REASON_UNSPECIFIED: 'REPLICA_PUT_REASON_UNSPECIFIED',
  REPLICA_PUT_REASON_WRITE: 'REPLICA_PUT_REASON_WRITE',
  REPLICA_PUT_REASON_READ_REPAIR: 'REPLICA_PUT_REASON_READ_REPAIR',
} as const;

export type ReplicaPutReason =
  | 'REPLICA_PUT_REASON_UNSPECIFIED'
  | 0
  | 'REPLICA_PUT_REASON_WRITE'
  | 1
  | 'REPLICA_PUT_REASON_READ_REPAIR'
  | 2

export type ReplicaPutReason__Output = typeof ReplicaPutReason[keyof typeof ReplicaPutReason]
