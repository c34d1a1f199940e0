// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetRequest as _dkv_v1_GetRequest, GetRequest__Output as _dkv_v1_GetRequest__Output } from '../../dkv/v1/GetRequest';
import type { LocalGetResponse as _dkv_v1_LocalGetResponse, LocalGetResponse__Output as _dkv_v1_LocalGetResponse__Output } from '../../dkv/v1/LocalGetResponse';
import type { PingRequest as _dkv_v1_PingRequest, PingRequest__Output as _dkv_v1_PingRequest__Output } from '../../dkv/v1/PingRequest';
import type { PingResponse as _dkv_v1_PingResponse, PingResponse__Output as _dkv_v1_PingResponse__Output } from '../../dkv/v1/PingResponse';
import type { SetDroppedPeersRequest as _dkv_v1_SetDroppedPeersRequest, SetDroppedPeersRequest__Output as _dkv_v1_SetDroppedPeersRequest__Output } from '../../dkv/v1/SetDroppedPeersRequest';
import type { SetDroppedPeersResponse as _dkv_v1_SetDroppedPeersResponse, SetDroppedPeersResponse__Output as _dkv_v1_SetDroppedPeersResponse__Output } from '../../dkv/v1/SetDroppedPeersResponse';
import type { SetLinkFaultsRequest as _dkv_v1_SetLinkFaultsRequest, SetLinkFaultsRequest__Output as _dkv_v1_SetLinkFaultsRequest__Output } from '../../dkv/v1/SetLinkFaultsRequest';
import type { SetLinkFaultsResponse as _dkv_v1_SetLinkFaultsResponse, SetLinkFaultsResponse__Output as _dkv_v1_SetLinkFaultsResponse__Output } from '../../dkv/v1/SetLinkFaultsResponse';
import type { StatusRequest as _dkv_v1_StatusRequest, StatusRequest__Output as _dkv_v1_StatusRequest__Output } from '../../dkv/v1/StatusRequest';
import type { StatusResponse as _dkv_v1_StatusResponse, StatusResponse__Output as _dkv_v1_StatusResponse__Output } from '../../dkv/v1/StatusResponse';

export interface AdminClient extends grpc.Client {
  LocalGet(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  LocalGet(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  LocalGet(argument: _dkv_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  LocalGet(argument: _dkv_v1_GetRequest, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  localGet(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  localGet(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  localGet(argument: _dkv_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  localGet(argument: _dkv_v1_GetRequest, callback: grpc.requestCallback<_dkv_v1_LocalGetResponse__Output>): grpc.ClientUnaryCall;
  
  Ping(argument: _dkv_v1_PingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  Ping(argument: _dkv_v1_PingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  Ping(argument: _dkv_v1_PingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  Ping(argument: _dkv_v1_PingRequest, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _dkv_v1_PingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _dkv_v1_PingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _dkv_v1_PingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  ping(argument: _dkv_v1_PingRequest, callback: grpc.requestCallback<_dkv_v1_PingResponse__Output>): grpc.ClientUnaryCall;
  
  SetDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  SetDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  SetDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  SetDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  setDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  setDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  setDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  setDroppedPeers(argument: _dkv_v1_SetDroppedPeersRequest, callback: grpc.requestCallback<_dkv_v1_SetDroppedPeersResponse__Output>): grpc.ClientUnaryCall;
  
  SetLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  SetLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  SetLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  SetLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  setLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  setLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  setLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  setLinkFaults(argument: _dkv_v1_SetLinkFaultsRequest, callback: grpc.requestCallback<_dkv_v1_SetLinkFaultsResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _dkv_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dkv_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dkv_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _dkv_v1_StatusRequest, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _dkv_v1_StatusRequest, callback: grpc.requestCallback<_dkv_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  LocalGet: grpc.handleUnaryCall<_dkv_v1_GetRequest__Output, _dkv_v1_LocalGetResponse>;
  
  Ping: grpc.handleUnaryCall<_dkv_v1_PingRequest__Output, _dkv_v1_PingResponse>;
  
  SetDroppedPeers: grpc.handleUnaryCall<_dkv_v1_SetDroppedPeersRequest__Output, _dkv_v1_SetDroppedPeersResponse>;
  
  SetLinkFaults: grpc.handleUnaryCall<_dkv_v1_SetLinkFaultsRequest__Output, _dkv_v1_SetLinkFaultsResponse>;
  
  Status: grpc.handleUnaryCall<_dkv_v1_StatusRequest__Output, _dkv_v1_StatusResponse>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  LocalGet: MethodDefinition<_dkv_v1_GetRequest, _dkv_v1_LocalGetResponse, _dkv_v1_GetRequest__Output, _dkv_v1_LocalGetResponse__Output>
  Ping: MethodDefinition<_dkv_v1_PingRequest, _dkv_v1_PingResponse, _dkv_v1_PingRequest__Output, _dkv_v1_PingResponse__Output>
  SetDroppedPeers: MethodDefinition<_dkv_v1_SetDroppedPeersRequest, _dkv_v1_SetDroppedPeersResponse, _dkv_v1_SetDroppedPeersRequest__Output, _dkv_v1_SetDroppedPeersResponse__Output>
  SetLinkFaults: MethodDefinition<_dkv_v1_SetLinkFaultsRequest, _dkv_v1_SetLinkFaultsResponse, _dkv_v1_SetLinkFaultsRequest__Output, _dkv_v1_SetLinkFaultsResponse__Output>
  Status: MethodDefinition<_dkv_v1_StatusRequest, _dkv_v1_StatusResponse, _dkv_v1_StatusRequest__Output, _dkv_v1_StatusResponse__Output>
}
