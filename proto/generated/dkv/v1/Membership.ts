// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CommitRequest as _dkv_v1_CommitRequest, CommitRequest__Output as _dkv_v1_CommitRequest__Output } from '../../dkv/v1/CommitRequest';
import type { MetadataExchange as _dkv_v1_MetadataExchange, MetadataExchange__Output as _dkv_v1_MetadataExchange__Output } from '../../dkv/v1/MetadataExchange';
import type { MetadataReply as _dkv_v1_MetadataReply, MetadataReply__Output as _dkv_v1_MetadataReply__Output } from '../../dkv/v1/MetadataReply';
import type { MetadataRequest as _dkv_v1_MetadataRequest, MetadataRequest__Output as _dkv_v1_MetadataRequest__Output } from '../../dkv/v1/MetadataRequest';
import type { PlanReply as _dkv_v1_PlanReply, PlanReply__Output as _dkv_v1_PlanReply__Output } from '../../dkv/v1/PlanReply';
import type { StageRequest as _dkv_v1_StageRequest, StageRequest__Output as _dkv_v1_StageRequest__Output } from '../../dkv/v1/StageRequest';

export interface MembershipClient extends grpc.Client {
  Clear(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Clear(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Clear(argument: _dkv_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Clear(argument: _dkv_v1_MetadataRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  clear(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  clear(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  clear(argument: _dkv_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  clear(argument: _dkv_v1_MetadataRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  
  Commit(argument: _dkv_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Commit(argument: _dkv_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Commit(argument: _dkv_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Commit(argument: _dkv_v1_CommitRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  commit(argument: _dkv_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  commit(argument: _dkv_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  commit(argument: _dkv_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  commit(argument: _dkv_v1_CommitRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  
  Exchange(argument: _dkv_v1_MetadataExchange, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Exchange(argument: _dkv_v1_MetadataExchange, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Exchange(argument: _dkv_v1_MetadataExchange, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Exchange(argument: _dkv_v1_MetadataExchange, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  exchange(argument: _dkv_v1_MetadataExchange, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  exchange(argument: _dkv_v1_MetadataExchange, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  exchange(argument: _dkv_v1_MetadataExchange, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  exchange(argument: _dkv_v1_MetadataExchange, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  
  Get(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_MetadataRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_MetadataRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  
  Plan(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  Plan(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  Plan(argument: _dkv_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  Plan(argument: _dkv_v1_MetadataRequest, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  plan(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  plan(argument: _dkv_v1_MetadataRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  plan(argument: _dkv_v1_MetadataRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  plan(argument: _dkv_v1_MetadataRequest, callback: grpc.requestCallback<_dkv_v1_PlanReply__Output>): grpc.ClientUnaryCall;
  
  Stage(argument: _dkv_v1_StageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Stage(argument: _dkv_v1_StageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Stage(argument: _dkv_v1_StageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  Stage(argument: _dkv_v1_StageRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  stage(argument: _dkv_v1_StageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  stage(argument: _dkv_v1_StageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  stage(argument: _dkv_v1_StageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  stage(argument: _dkv_v1_StageRequest, callback: grpc.requestCallback<_dkv_v1_MetadataReply__Output>): grpc.ClientUnaryCall;
  
}

export interface MembershipHandlers extends grpc.UntypedServiceImplementation {
  Clear: grpc.handleUnaryCall<_dkv_v1_MetadataRequest__Output, _dkv_v1_MetadataReply>;
  
  Commit: grpc.handleUnaryCall<_dkv_v1_CommitRequest__Output, _dkv_v1_MetadataReply>;
  
  Exchange: grpc.handleUnaryCall<_dkv_v1_MetadataExchange__Output, _dkv_v1_MetadataReply>;
  
  Get: grpc.handleUnaryCall<_dkv_v1_MetadataRequest__Output, _dkv_v1_MetadataReply>;
  
  Plan: grpc.handleUnaryCall<_dkv_v1_MetadataRequest__Output, _dkv_v1_PlanReply>;
  
  Stage: grpc.handleUnaryCall<_dkv_v1_StageRequest__Output, _dkv_v1_MetadataReply>;
  
}

export interface MembershipDefinition extends grpc.ServiceDefinition {
  Clear: MethodDefinition<_dkv_v1_MetadataRequest, _dkv_v1_MetadataReply, _dkv_v1_MetadataRequest__Output, _dkv_v1_MetadataReply__Output>
  Commit: MethodDefinition<_dkv_v1_CommitRequest, _dkv_v1_MetadataReply, _dkv_v1_CommitRequest__Output, _dkv_v1_MetadataReply__Output>
  Exchange: MethodDefinition<_dkv_v1_MetadataExchange, _dkv_v1_MetadataReply, _dkv_v1_MetadataExchange__Output, _dkv_v1_MetadataReply__Output>
  Get: MethodDefinition<_dkv_v1_MetadataRequest, _dkv_v1_MetadataReply, _dkv_v1_MetadataRequest__Output, _dkv_v1_MetadataReply__Output>
  Plan: MethodDefinition<_dkv_v1_MetadataRequest, _dkv_v1_PlanReply, _dkv_v1_MetadataRequest__Output, _dkv_v1_PlanReply__Output>
  Stage: MethodDefinition<_dkv_v1_StageRequest, _dkv_v1_MetadataReply, _dkv_v1_StageRequest__Output, _dkv_v1_MetadataReply__Output>
}
