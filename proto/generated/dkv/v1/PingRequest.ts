// Original file: proto/dkv.proto


export interface PingRequest {
  'metadata_digest'?: (string);
}

export interface PingRequest__Output {
  'metadata_digest': (string);
}
