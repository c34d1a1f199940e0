// Original file: proto/dkv.proto


export interface UserRequest {
  'user'?: (string);
}

export interface UserRequest__Output {
  'user': (string);
}
