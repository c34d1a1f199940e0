// Original file: proto/dkv.proto


export interface SetDroppedPeersResponse {
  'peers'?: (string)[];
}

export interface SetDroppedPeersResponse__Output {
  'peers': (string)[];
}
