// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface IncomingTransfer {
  'partition'?: (number);
  'waiting_for'?: (string)[];
  'why'?: (string);
  'state'?: (string);
  'source'?: (string);
  'keys_done'?: (number | string | Long);
  'bytes_done'?: (number | string | Long);
  'keys_left'?: (number | string | Long);
  'bytes_left'?: (number | string | Long);
  'bytes_per_second'?: (number | string);
  'eta_ms'?: (number | string | Long);
}

export interface IncomingTransfer__Output {
  'partition': (number);
  'waiting_for': (string)[];
  'why': (string);
  'state': (string);
  'source': (string);
  'keys_done': (number);
  'bytes_done': (number);
  'keys_left': (number);
  'bytes_left': (number);
  'bytes_per_second': (number);
  'eta_ms': (number);
}
