// Original file: proto/dkv.proto


export interface IncomingTransfer {
  'partition'?: (number);
  'waiting_for'?: (string)[];
  'why'?: (string);
}

export interface IncomingTransfer__Output {
  'partition': (number);
  'waiting_for': (string)[];
  'why': (string);
}
