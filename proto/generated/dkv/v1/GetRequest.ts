// Original file: proto/dkv.proto

import type { RequestOptions as _dkv_v1_RequestOptions, RequestOptions__Output as _dkv_v1_RequestOptions__Output } from '../../dkv/v1/RequestOptions';

export interface GetRequest {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'options'?: (_dkv_v1_RequestOptions | null);
}

export interface GetRequest__Output {
  'bucket': (string);
  'key': (Buffer);
  'options': (_dkv_v1_RequestOptions__Output | null);
}
