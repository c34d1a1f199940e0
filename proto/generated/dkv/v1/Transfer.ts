// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { TransferBatch as _dkv_v1_TransferBatch, TransferBatch__Output as _dkv_v1_TransferBatch__Output } from '../../dkv/v1/TransferBatch';
import type { TransferRequest as _dkv_v1_TransferRequest, TransferRequest__Output as _dkv_v1_TransferRequest__Output } from '../../dkv/v1/TransferRequest';

export interface TransferClient extends grpc.Client {
  Fetch(argument: _dkv_v1_TransferRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dkv_v1_TransferBatch__Output>;
  Fetch(argument: _dkv_v1_TransferRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dkv_v1_TransferBatch__Output>;
  fetch(argument: _dkv_v1_TransferRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_dkv_v1_TransferBatch__Output>;
  fetch(argument: _dkv_v1_TransferRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_dkv_v1_TransferBatch__Output>;
  
}

export interface TransferHandlers extends grpc.UntypedServiceImplementation {
  Fetch: grpc.handleServerStreamingCall<_dkv_v1_TransferRequest__Output, _dkv_v1_TransferBatch>;
  
}

export interface TransferDefinition extends grpc.ServiceDefinition {
  Fetch: MethodDefinition<_dkv_v1_TransferRequest, _dkv_v1_TransferBatch, _dkv_v1_TransferRequest__Output, _dkv_v1_TransferBatch__Output>
}
