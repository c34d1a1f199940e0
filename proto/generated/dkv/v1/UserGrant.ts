// Original file: proto/dkv.proto


export interface UserGrant {
  'permission'?: (string);
  'bucket'?: (string);
}

export interface UserGrant__Output {
  'permission': (string);
  'bucket': (string);
}
