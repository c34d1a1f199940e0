// Original file: proto/dkv.proto


export interface SetDroppedPeersRequest {
  'peers'?: (string)[];
}

export interface SetDroppedPeersRequest__Output {
  'peers': (string)[];
}
