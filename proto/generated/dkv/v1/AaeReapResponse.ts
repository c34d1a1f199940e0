// Original file: proto/dkv.proto


export interface AaeReapResponse {
  'equal'?: (boolean)[];
}

export interface AaeReapResponse__Output {
  'equal': (boolean)[];
}
