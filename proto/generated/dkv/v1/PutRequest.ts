// Original file: proto/dkv.proto

import type { RequestOptions as _dkv_v1_RequestOptions, RequestOptions__Output as _dkv_v1_RequestOptions__Output } from '../../dkv/v1/RequestOptions';

export interface PutRequest {
  'bucket'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'value'?: (Buffer | Uint8Array | string);
  'content_type'?: (string);
  'metadata'?: ({[key: string]: string});
  'context'?: (Buffer | Uint8Array | string);
  'options'?: (_dkv_v1_RequestOptions | null);
  'return_body'?: (boolean);
  'if_none_match'?: (boolean);
}

export interface PutRequest__Output {
  'bucket': (string);
  'key': (Buffer);
  'value': (Buffer);
  'content_type': (string);
  'metadata': ({[key: string]: string});
  'context': (Buffer);
  'options': (_dkv_v1_RequestOptions__Output | null);
  'return_body': (boolean);
  'if_none_match': (boolean);
}
