// Original file: proto/dkv.proto


export interface MetadataExchange {
  'metadata_json'?: (string);
}

export interface MetadataExchange__Output {
  'metadata_json': (string);
}
