// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ReplicaCallBatch as _dkv_v1_ReplicaCallBatch, ReplicaCallBatch__Output as _dkv_v1_ReplicaCallBatch__Output } from '../../dkv/v1/ReplicaCallBatch';
import type { ReplicaGetRequest as _dkv_v1_ReplicaGetRequest, ReplicaGetRequest__Output as _dkv_v1_ReplicaGetRequest__Output } from '../../dkv/v1/ReplicaGetRequest';
import type { ReplicaGetResponse as _dkv_v1_ReplicaGetResponse, ReplicaGetResponse__Output as _dkv_v1_ReplicaGetResponse__Output } from '../../dkv/v1/ReplicaGetResponse';
import type { ReplicaPutRequest as _dkv_v1_ReplicaPutRequest, ReplicaPutRequest__Output as _dkv_v1_ReplicaPutRequest__Output } from '../../dkv/v1/ReplicaPutRequest';
import type { ReplicaPutResponse as _dkv_v1_ReplicaPutResponse, ReplicaPutResponse__Output as _dkv_v1_ReplicaPutResponse__Output } from '../../dkv/v1/ReplicaPutResponse';
import type { ReplicaReplyBatch as _dkv_v1_ReplicaReplyBatch, ReplicaReplyBatch__Output as _dkv_v1_ReplicaReplyBatch__Output } from '../../dkv/v1/ReplicaReplyBatch';

export interface ReplicaClient extends grpc.Client {
  Get(argument: _dkv_v1_ReplicaGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_ReplicaGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_ReplicaGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_ReplicaGetRequest, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_ReplicaGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_ReplicaGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_ReplicaGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_ReplicaGetRequest, callback: grpc.requestCallback<_dkv_v1_ReplicaGetResponse__Output>): grpc.ClientUnaryCall;
  
  Put(argument: _dkv_v1_ReplicaPutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _dkv_v1_ReplicaPutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _dkv_v1_ReplicaPutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _dkv_v1_ReplicaPutRequest, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_ReplicaPutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_ReplicaPutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_ReplicaPutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_ReplicaPutRequest, callback: grpc.requestCallback<_dkv_v1_ReplicaPutResponse__Output>): grpc.ClientUnaryCall;
  
  Stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ReplicaCallBatch, _dkv_v1_ReplicaReplyBatch__Output>;
  Stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ReplicaCallBatch, _dkv_v1_ReplicaReplyBatch__Output>;
  stream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ReplicaCallBatch, _dkv_v1_ReplicaReplyBatch__Output>;
  stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ReplicaCallBatch, _dkv_v1_ReplicaReplyBatch__Output>;
  
}

export interface ReplicaHandlers extends grpc.UntypedServiceImplementation {
  Get: grpc.handleUnaryCall<_dkv_v1_ReplicaGetRequest__Output, _dkv_v1_ReplicaGetResponse>;
  
  Put: grpc.handleUnaryCall<_dkv_v1_ReplicaPutRequest__Output, _dkv_v1_ReplicaPutResponse>;
  
  Stream: grpc.handleBidiStreamingCall<_dkv_v1_ReplicaCallBatch__Output, _dkv_v1_ReplicaReplyBatch>;
  
}

export interface ReplicaDefinition extends grpc.ServiceDefinition {
  Get: MethodDefinition<_dkv_v1_ReplicaGetRequest, _dkv_v1_ReplicaGetResponse, _dkv_v1_ReplicaGetRequest__Output, _dkv_v1_ReplicaGetResponse__Output>
  Put: MethodDefinition<_dkv_v1_ReplicaPutRequest, _dkv_v1_ReplicaPutResponse, _dkv_v1_ReplicaPutRequest__Output, _dkv_v1_ReplicaPutResponse__Output>
  Stream: MethodDefinition<_dkv_v1_ReplicaCallBatch, _dkv_v1_ReplicaReplyBatch, _dkv_v1_ReplicaCallBatch__Output, _dkv_v1_ReplicaReplyBatch__Output>
}
