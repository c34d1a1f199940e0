// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface HintAck {
  'ids'?: (number | string | Long)[];
}

export interface HintAck__Output {
  'ids': (number)[];
}
