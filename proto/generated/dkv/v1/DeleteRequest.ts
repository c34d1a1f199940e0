// Original file: proto/dkv.proto

import type { RequestOptions as _dkv_v1_RequestOptions, RequestOptions__Output as _dkv_v1_RequestOptions__Output } from '../../dkv/v1/RequestOptions';

export interface DeleteRequest {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'context'?: (Buffer | Uint8Array | string);
  'options'?: (_dkv_v1_RequestOptions | null);
}

export interface DeleteRequest__Output {
  'bucket': (string);
  'key': (Buffer);
  'context': (Buffer);
  'options': (_dkv_v1_RequestOptions__Output | null);
}
