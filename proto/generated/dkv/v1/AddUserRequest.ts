// Original file: proto/dkv.proto


export interface AddUserRequest {
  'user'?: (string);
  'without_token'?: (boolean);
}

export interface AddUserRequest__Output {
  'user': (string);
  'without_token': (boolean);
}
