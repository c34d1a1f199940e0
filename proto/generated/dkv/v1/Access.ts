// Original file: proto/dkv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AccessReply as _dkv_v1_AccessReply, AccessReply__Output as _dkv_v1_AccessReply__Output } from '../../dkv/v1/AccessReply';
import type { AddUserRequest as _dkv_v1_AddUserRequest, AddUserRequest__Output as _dkv_v1_AddUserRequest__Output } from '../../dkv/v1/AddUserRequest';
import type { GrantRequest as _dkv_v1_GrantRequest, GrantRequest__Output as _dkv_v1_GrantRequest__Output } from '../../dkv/v1/GrantRequest';
import type { ListUsersRequest as _dkv_v1_ListUsersRequest, ListUsersRequest__Output as _dkv_v1_ListUsersRequest__Output } from '../../dkv/v1/ListUsersRequest';
import type { UserRequest as _dkv_v1_UserRequest, UserRequest__Output as _dkv_v1_UserRequest__Output } from '../../dkv/v1/UserRequest';

export interface AccessClient extends grpc.Client {
  AddUser(argument: _dkv_v1_AddUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  AddUser(argument: _dkv_v1_AddUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  AddUser(argument: _dkv_v1_AddUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  AddUser(argument: _dkv_v1_AddUserRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  addUser(argument: _dkv_v1_AddUserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  addUser(argument: _dkv_v1_AddUserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  addUser(argument: _dkv_v1_AddUserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  addUser(argument: _dkv_v1_AddUserRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  
  Grant(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  Grant(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  Grant(argument: _dkv_v1_GrantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  Grant(argument: _dkv_v1_GrantRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  grant(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  grant(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  grant(argument: _dkv_v1_GrantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  grant(argument: _dkv_v1_GrantRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  
  ListUsers(argument: _dkv_v1_ListUsersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  ListUsers(argument: _dkv_v1_ListUsersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  ListUsers(argument: _dkv_v1_ListUsersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  ListUsers(argument: _dkv_v1_ListUsersRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  listUsers(argument: _dkv_v1_ListUsersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  listUsers(argument: _dkv_v1_ListUsersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  listUsers(argument: _dkv_v1_ListUsersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  listUsers(argument: _dkv_v1_ListUsersRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  
  RemoveUser(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  RemoveUser(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  RemoveUser(argument: _dkv_v1_UserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  RemoveUser(argument: _dkv_v1_UserRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  removeUser(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  removeUser(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  removeUser(argument: _dkv_v1_UserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  removeUser(argument: _dkv_v1_UserRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  
  Revoke(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _dkv_v1_GrantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _dkv_v1_GrantRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  revoke(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  revoke(argument: _dkv_v1_GrantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  revoke(argument: _dkv_v1_GrantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  revoke(argument: _dkv_v1_GrantRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  
  RotateToken(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  RotateToken(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  RotateToken(argument: _dkv_v1_UserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  RotateToken(argument: _dkv_v1_UserRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  rotateToken(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  rotateToken(argument: _dkv_v1_UserRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  rotateToken(argument: _dkv_v1_UserRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  rotateToken(argument: _dkv_v1_UserRequest, callback: grpc.requestCallback<_dkv_v1_AccessReply__Output>): grpc.ClientUnaryCall;
  
}

export interface AccessHandlers extends grpc.UntypedServiceImplementation {
  AddUser: grpc.handleUnaryCall<_dkv_v1_AddUserRequest__Output, _dkv_v1_AccessReply>;
  
  Grant: grpc.handleUnaryCall<_dkv_v1_GrantRequest__Output, _dkv_v1_AccessReply>;
  
  ListUsers: grpc.handleUnaryCall<_dkv_v1_ListUsersRequest__Output, _dkv_v1_AccessReply>;
  
  RemoveUser: grpc.handleUnaryCall<_dkv_v1_UserRequest__Output, _dkv_v1_AccessReply>;
  
  Revoke: grpc.handleUnaryCall<_dkv_v1_GrantRequest__Output, _dkv_v1_AccessReply>;
  
  RotateToken: grpc.handleUnaryCall<_dkv_v1_UserRequest__Output, _dkv_v1_AccessReply>;
  
}

export interface AccessDefinition extends grpc.ServiceDefinition {
  AddUser: MethodDefinition<_dkv_v1_AddUserRequest, _dkv_v1_AccessReply, _dkv_v1_AddUserRequest__Output, _dkv_v1_AccessReply__Output>
  Grant: MethodDefinition<_dkv_v1_GrantRequest, _dkv_v1_AccessReply, _dkv_v1_GrantRequest__Output, _dkv_v1_AccessReply__Output>
  ListUsers: MethodDefinition<_dkv_v1_ListUsersRequest, _dkv_v1_AccessReply, _dkv_v1_ListUsersRequest__Output, _dkv_v1_AccessReply__Output>
  RemoveUser: MethodDefinition<_dkv_v1_UserRequest, _dkv_v1_AccessReply, _dkv_v1_UserRequest__Output, _dkv_v1_AccessReply__Output>
  Revoke: MethodDefinition<_dkv_v1_GrantRequest, _dkv_v1_AccessReply, _dkv_v1_GrantRequest__Output, _dkv_v1_AccessReply__Output>
  RotateToken: MethodDefinition<_dkv_v1_UserRequest, _dkv_v1_AccessReply, _dkv_v1_UserRequest__Output, _dkv_v1_AccessReply__Output>
}
