// Original file: proto/dkv.proto


export interface GrantRequest {
  'user'?: (string);
  'permission'?: (string);
  'bucket'?: (string);
}

export interface GrantRequest__Output {
  'user': (string);
  'permission': (string);
  'bucket': (string);
}
