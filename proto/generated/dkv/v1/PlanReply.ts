// Original file: proto/dkv.proto

import type { Long } from '@grpc/proto-loader';

export interface PlanReply {
  'plan_json'?: (string);
  'based_on'?: (number | string | Long);
  'revision'?: (number | string | Long);
}

export interface PlanReply__Output {
  'plan_json': (string);
  'based_on': (number);
  'revision': (number);
}
