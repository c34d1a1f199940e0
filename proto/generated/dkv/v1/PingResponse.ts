// Original file: proto/dkv.proto


export interface PingResponse {
  'node_id'?: (string);
  'metadata_digest'?: (string);
}

export interface PingResponse__Output {
  'node_id': (string);
  'metadata_digest': (string);
}
