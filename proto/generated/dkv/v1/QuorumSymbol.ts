// Original file: proto/dkv.proto

export const QuorumSymbol = {
  QUORUM_SYMBOL_UNSPECIFIED: 'QUORUM_SYMBOL_UNSPECIFIED',
  QUORUM_SYMBOL_ONE: 'QUORUM_SYMBOL_ONE',
  QUORUM_SYMBOL_QUORUM: 'QUORUM_SYMBOL_QUORUM',
  QUORUM_SYMBOL_ALL: 'QUORUM_SYMBOL_ALL',
} as const;

export type QuorumSymbol =
  | 'QUORUM_SYMBOL_UNSPECIFIED'
  | 0
  | 'QUORUM_SYMBOL_ONE'
  | 1
  | 'QUORUM_SYMBOL_QUORUM'
  | 2
  | 'QUORUM_SYMBOL_ALL'
  | 3

export type QuorumSymbol__Output = typeof QuorumSymbol[keyof typeof QuorumSymbol]
