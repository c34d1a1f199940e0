// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface HintItem {
  'id'?: (number | string | Long);
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'object'?: (Buffer | Uint8Array | string);
}

export interface HintItem__Output {
  'id': (number);
  'bucket': (string);
  'key': (Buffer);
  'object': (Buffer);
}
