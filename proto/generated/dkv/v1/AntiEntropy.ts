// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AaeReapRequest as _dkv_v1_AaeReapRequest, AaeReapRequest__Output as _dkv_v1_AaeReapRequest__Output } from '../../dkv/v1/AaeReapRequest';
import type { AaeReapResponse as _dkv_v1_AaeReapResponse, AaeReapResponse__Output as _dkv_v1_AaeReapResponse__Output } from '../../dkv/v1/AaeReapResponse';
import type { AaeStatusRequest as _dkv_v1_AaeStatusRequest, AaeStatusRequest__Output as _dkv_v1_AaeStatusRequest__Output } from '../../dkv/v1/AaeStatusRequest';
import type { AaeStatusResponse as _dkv_v1_AaeStatusResponse, AaeStatusResponse__Output as _dkv_v1_AaeStatusResponse__Output } from '../../dkv/v1/AaeStatusResponse';
import type { ExchangeRequest as _dkv_v1_ExchangeRequest, ExchangeRequest__Output as _dkv_v1_ExchangeRequest__Output } from '../../dkv/v1/ExchangeRequest';
import type { ExchangeResponse as _dkv_v1_ExchangeResponse, ExchangeResponse__Output as _dkv_v1_ExchangeResponse__Output } from '../../dkv/v1/ExchangeResponse';

export interface AntiEntropyClient extends grpc.Client {
  Exchange(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ExchangeRequest, _dkv_v1_ExchangeResponse__Output>;
  Exchange(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ExchangeRequest, _dkv_v1_ExchangeResponse__Output>;
  exchange(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ExchangeRequest, _dkv_v1_ExchangeResponse__Output>;
  exchange(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_ExchangeRequest, _dkv_v1_ExchangeResponse__Output>;
  
  Reap(argument: _dkv_v1_AaeReapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  Reap(argument: _dkv_v1_AaeReapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  Reap(argument: _dkv_v1_AaeReapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  Reap(argument: _dkv_v1_AaeReapRequest, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  reap(argument: _dkv_v1_AaeReapRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  reap(argument: _dkv_v1_AaeReapRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  reap(argument: _dkv_v1_AaeReapRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  reap(argument: _dkv_v1_AaeReapRequest, callback: grpc.requestCallback<_dkv_v1_AaeReapResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _dkv_v1_AaeStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dkv_v1_AaeStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dkv_v1_AaeStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dkv_v1_AaeStatusRequest, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_AaeStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_AaeStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_AaeStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_AaeStatusRequest, callback: grpc.requestCallback<_dkv_v1_AaeStatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AntiEntropyHandlers extends grpc.UntypedServiceImplementation {
  Exchange: grpc.handleBidiStreamingCall<_dkv_v1_ExchangeRequest__Output, _dkv_v1_ExchangeResponse>;
  
  Reap: grpc.handleUnaryCall<_dkv_v1_AaeReapRequest__Output, _dkv_v1_AaeReapResponse>;
  
  Status: grpc.handleUnaryCall<_dkv_v1_AaeStatusRequest__Output, _dkv_v1_AaeStatusResponse>;
  
}

export interface AntiEntropyDefinition extends grpc.ServiceDefinition {
  Exchange: MethodDefinition<_dkv_v1_ExchangeRequest, _dkv_v1_ExchangeResponse, _dkv_v1_ExchangeRequest__Output, _dkv_v1_ExchangeResponse__Output>
  Reap: MethodDefinition<_dkv_v1_AaeReapRequest, _dkv_v1_AaeReapResponse, _dkv_v1_AaeReapRequest__Output, _dkv_v1_AaeReapResponse__Output>
  Status: MethodDefinition<_dkv_v1_AaeStatusRequest, _dkv_v1_AaeStatusResponse, _dkv_v1_AaeStatusRequest__Output, _dkv_v1_AaeStatusResponse__Output>
}
