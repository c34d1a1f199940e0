// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { HintAck as _dkv_v1_HintAck, HintAck__Output as _dkv_v1_HintAck__Output } from '../../dkv/v1/HintAck';
import type { HintBatch as _dkv_v1_HintBatch, HintBatch__Output as _dkv_v1_HintBatch__Output } from '../../dkv/v1/HintBatch';

export interface HandoffClient extends grpc.Client {
  Deliver(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_HintBatch, _dkv_v1_HintAck__Output>;
  Deliver(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_HintBatch, _dkv_v1_HintAck__Output>;
  deliver(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_HintBatch, _dkv_v1_HintAck__Output>;
  deliver(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_HintBatch, _dkv_v1_HintAck__Output>;
  
}

export interface HandoffHandlers extends grpc.UntypedServiceImplementation {
  Deliver: grpc.handleBidiStreamingCall<_dkv_v1_HintBatch__Output, _dkv_v1_HintAck>;
  
}

export interface HandoffDefinition extends grpc.ServiceDefinition {
  Deliver: MethodDefinition<_dkv_v1_HintBatch, _dkv_v1_HintAck, _dkv_v1_HintBatch__Output, _dkv_v1_HintAck__Output>
}
