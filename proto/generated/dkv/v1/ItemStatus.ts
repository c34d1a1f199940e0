// Original file: proto/dkv.proto


export interface ItemStatus {
  'code'?: (number);
  'message'?: (string);
  'not_applied'?: (boolean);
}

export interface ItemStatus__Output {
  'code': (number);
  'message': (string);
  'not_applied': (boolean);
}
