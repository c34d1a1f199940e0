// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface CommitRequest {
  'based_on'?: (number | string | Long);
  'revision'?: (number | string | Long);
  'as_planned'?: (boolean);
}

export interface CommitRequest__Output {
  'based_on': (number);
  'revision': (number);
  'as_planned': (boolean);
}
