// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchGetRequest as _dkv_v1_BatchGetRequest, BatchGetRequest__Output as _dkv_v1_BatchGetRequest__Output } from '../../dkv/v1/BatchGetRequest';
import type { BatchGetResponse as _dkv_v1_BatchGetResponse, BatchGetResponse__Output as _dkv_v1_BatchGetResponse__Output } from '../../dkv/v1/BatchGetResponse';
import type { BatchPutRequest as _dkv_v1_BatchPutRequest, BatchPutRequest__Output as _dkv_v1_BatchPutRequest__Output } from '../../dkv/v1/BatchPutRequest';
import type { BatchPutResponse as _dkv_v1_BatchPutResponse, BatchPutResponse__Output as _dkv_v1_BatchPutResponse__Output } from '../../dkv/v1/BatchPutResponse';
import type { DeleteRequest as _dkv_v1_DeleteRequest, DeleteRequest__Output as _dkv_v1_DeleteRequest__Output } from '../../dkv/v1/DeleteRequest';
import type { DeleteResponse as _dkv_v1_DeleteResponse, DeleteResponse__Output as _dkv_v1_DeleteResponse__Output } from '../../dkv/v1/DeleteResponse';
import type { GetRequest as _dkv_v1_GetRequest, GetRequest__Output as _dkv_v1_GetRequest__Output } from '../../dkv/v1/GetRequest';
import type { GetResponse as _dkv_v1_GetResponse, GetResponse__Output as _dkv_v1_GetResponse__Output } from '../../dkv/v1/GetResponse';
import type { PutRequest as _dkv_v1_PutRequest, PutRequest__Output as _dkv_v1_PutRequest__Output } from '../../dkv/v1/PutRequest';
import type { PutResponse as _dkv_v1_PutResponse, PutResponse__Output as _dkv_v1_PutResponse__Output } from '../../dkv/v1/PutResponse';
import type { SessionRequest as _dkv_v1_SessionRequest, SessionRequest__Output as _dkv_v1_SessionRequest__Output } from '../../dkv/v1/SessionRequest';
import type { SessionResponse as _dkv_v1_SessionResponse, SessionResponse__Output as _dkv_v1_SessionResponse__Output } from '../../dkv/v1/SessionResponse';

export interface KVClient extends grpc.Client {
  BatchGet(argument: _dkv_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _dkv_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _dkv_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _dkv_v1_BatchGetRequest, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _dkv_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _dkv_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _dkv_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _dkv_v1_BatchGetRequest, callback: grpc.requestCallback<_dkv_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  
  BatchPut(argument: _dkv_v1_BatchPutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  BatchPut(argument: _dkv_v1_BatchPutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  BatchPut(argument: _dkv_v1_BatchPutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  BatchPut(argument: _dkv_v1_BatchPutRequest, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _dkv_v1_BatchPutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _dkv_v1_BatchPutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _dkv_v1_BatchPutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  batchPut(argument: _dkv_v1_BatchPutRequest, callback: grpc.requestCallback<_dkv_v1_BatchPutResponse__Output>): grpc.ClientUnaryCall;
  
  Delete(argument: _dkv_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _dkv_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _dkv_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _dkv_v1_DeleteRequest, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _dkv_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _dkv_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _dkv_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _dkv_v1_DeleteRequest, callback: grpc.requestCallback<_dkv_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  Get(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _dkv_v1_GetRequest, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _dkv_v1_GetRequest, callback: grpc.requestCallback<_dkv_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  
  Put(argument: _dkv_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _dkv_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _dkv_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _dkv_v1_PutRequest, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _dkv_v1_PutRequest, callback: grpc.requestCallback<_dkv_v1_PutResponse__Output>): grpc.ClientUnaryCall;
  
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_SessionRequest, _dkv_v1_SessionResponse__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_SessionRequest, _dkv_v1_SessionResponse__Output>;
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_SessionRequest, _dkv_v1_SessionResponse__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_dkv_v1_SessionRequest, _dkv_v1_SessionResponse__Output>;
  
}

export interface KVHandlers extends grpc.UntypedServiceImplementation {
  BatchGet: grpc.handleUnaryCall<_dkv_v1_BatchGetRequest__Output, _dkv_v1_BatchGetResponse>;
  
  BatchPut: grpc.handleUnaryCall<_dkv_v1_BatchPutRequest__Output, _dkv_v1_BatchPutResponse>;
  
  Delete: grpc.handleUnaryCall<_dkv_v1_DeleteRequest__Output, _dkv_v1_DeleteResponse>;
  
  Get: grpc.handleUnaryCall<_dkv_v1_GetRequest__Output, _dkv_v1_GetResponse>;
  
  Put: grpc.handleUnaryCall<_dkv_v1_PutRequest__Output, _dkv_v1_PutResponse>;
  
  Session: grpc.handleBidiStreamingCall<_dkv_v1_SessionRequest__Output, _dkv_v1_SessionResponse>;
  
}

export interface KVDefinition extends grpc.ServiceDefinition {
  BatchGet: MethodDefinition<_dkv_v1_BatchGetRequest, _dkv_v1_BatchGetResponse, _dkv_v1_BatchGetRequest__Output, _dkv_v1_BatchGetResponse__Output>
  BatchPut: MethodDefinition<_dkv_v1_BatchPutRequest, _dkv_v1_BatchPutResponse, _dkv_v1_BatchPutRequest__Output, _dkv_v1_BatchPutResponse__Output>
  Delete: MethodDefinition<_dkv_v1_DeleteRequest, _dkv_v1_DeleteResponse, _dkv_v1_DeleteRequest__Output, _dkv_v1_DeleteResponse__Output>
  Get: MethodDefinition<_dkv_v1_GetRequest, _dkv_v1_GetResponse, _dkv_v1_GetRequest__Output, _dkv_v1_GetResponse__Output>
  Put: MethodDefinition<_dkv_v1_PutRequest, _dkv_v1_PutResponse, _dkv_v1_PutRequest__Output, _dkv_v1_PutResponse__Output>
  Session: MethodDefinition<_dkv_v1_SessionRequest, _dkv_v1_SessionResponse, _dkv_v1_SessionRequest__Output, _dkv_v1_SessionResponse__Output>
}
