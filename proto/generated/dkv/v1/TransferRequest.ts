// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface TransferRequest {
  'layout_version'?: (number | string | Long);
  'partition'?: (number);
  'leaf'?: (number);
  'has_after'?: (boolean);
  'after_bucket'?: (string);
  'after_key'?: (Buffer | Uint8Array | string);
}

export interface TransferRequest__Output {
  'layout_version': (number);
  'partition': (number);
  'leaf': (number);
  'has_after': (boolean);
  'after_bucket': (string);
  'after_key': (Buffer);
}
