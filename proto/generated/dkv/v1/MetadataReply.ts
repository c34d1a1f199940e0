// Original file: proto/dkv.proto


export interface MetadataReply {
  'metadata_json'?: (string);
  'digest'?: (string);
}

export interface MetadataReply__Output {
  'metadata_json': (string);
  'digest': (string);
}
