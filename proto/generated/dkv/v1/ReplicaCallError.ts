// Original file: proto/dkv.proto


export interface ReplicaCallError {
  'code'?: (number);
  'message'?: (string);
}

export interface ReplicaCallError__Output {
  'code': (number);
  'message': (string);
}
