// Original file: proto/dkv.proto


export interface MetadataReply {
  'metadata_json'?: (string);
  'digest'?: (string);
  'plan_json'?: (string);
}

export interface MetadataReply__Output {
  'metadata_json': (string);
  'digest': (string);
  'plan_json': (string);
}
