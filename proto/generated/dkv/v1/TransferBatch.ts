// Original file: proto/dkv.proto

import type { AaeObject as _dkv_v1_AaeObject, AaeObject__Output as _dkv_v1_AaeObject__Output } from '../../dkv/v1/AaeObject';
import type { Long } from '@grpc/proto-loader';

export interface TransferBatch {
  'objects'?: (_dkv_v1_AaeObject)[];
  'leaf'?: (number);
  'has_after'?: (boolean);
  'after_bucket'?: (string);
  'after_key'?: (Buffer | Uint8Array | string);
  'done'?: (boolean);
  'keys_left'?: (number | string | Long);
  'throttled_ms'?: (number);
}

export interface TransferBatch__Output {
  'objects': (_dkv_v1_AaeObject__Output)[];
  'leaf': (number);
  'has_after': (boolean);
  'after_bucket': (string);
  'after_key': (Buffer);
  'done': (boolean);
  'keys_left': (number);
  'throttled_ms': (number);
}
