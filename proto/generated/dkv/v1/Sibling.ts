// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface Sibling {
  'value'?: (Buffer | Uint8Array | string);
  'content_type'?: (string);
  'metadata'?: ({[key: string]: string});
  'vtag'?: (string);
  'last_modified_ms'?: (number | string | Long);
  'deleted'?: (boolean);
}

export interface Sibling__Output {
  'value': (Buffer);
  'content_type': (string);
  'metadata': ({[key: string]: string});
  'vtag': (string);
  'last_modified_ms': (number);
  'deleted': (boolean);
}
