// Original file: proto/dkv.proto


export interface LinkFault {
  'peer'?: (string);
  'delay_ms'?: (number);
  'jitter_ms'?: (number);
  'loss'?: (number | string);
}

export interface LinkFault__Output {
  'peer': (string);
  'delay_ms': (number);
  'jitter_ms': (number);
  'loss': (number);
}
