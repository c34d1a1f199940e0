// Original file: proto/dkv.proto


export interface MemberStatus {
  'node_id'?: (string);
  'address'?: (string);
  'up'?: (boolean);
  'error'?: (string);
  'round_trip_ms'?: (number | string);
  'partitions'?: (number)[];
}

export interface MemberStatus__Output {
  'node_id': (string);
  'address': (string);
  'up': (boolean);
  'error': (string);
  'round_trip_ms': (number);
  'partitions': (number)[];
}
