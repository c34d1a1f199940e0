import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminClient as _dkv_v1_AdminClient, AdminDefinition as _dkv_v1_AdminDefinition } from './dkv/v1/Admin';
import type { DeleteRequest as _dkv_v1_DeleteRequest, DeleteRequest__Output as _dkv_v1_DeleteRequest__Output } from './dkv/v1/DeleteRequest';
import type { DeleteResponse as _dkv_v1_DeleteResponse, DeleteResponse__Output as _dkv_v1_DeleteResponse__Output } from './dkv/v1/DeleteResponse';
import type { GetRequest as _dkv_v1_GetRequest, GetRequest__Output as _dkv_v1_GetRequest__Output } from './dkv/v1/GetRequest';
import type { GetResponse as _dkv_v1_GetResponse, GetResponse__Output as _dkv_v1_GetResponse__Output } from './dkv/v1/GetResponse';
import type { HandoffClient as _dkv_v1_HandoffClient, HandoffDefinition as _dkv_v1_HandoffDefinition } from './dkv/v1/Handoff';
import type { HintAck as _dkv_v1_HintAck, HintAck__Output as _dkv_v1_HintAck__Output } from './dkv/v1/HintAck';
import type { HintBatch as _dkv_v1_HintBatch, HintBatch__Output as _dkv_v1_HintBatch__Output } from './dkv/v1/HintBatch';
import type { HintItem as _dkv_v1_HintItem, HintItem__Output as _dkv_v1_HintItem__Output } from './dkv/v1/HintItem';
import type { KVClient as _dkv_v1_KVClient, KVDefinition as _dkv_v1_KVDefinition } from './dkv/v1/KV';
import type { LocalGetResponse as _dkv_v1_LocalGetResponse, LocalGetResponse__Output as _dkv_v1_LocalGetResponse__Output } from './dkv/v1/LocalGetResponse';
import type { MemberStatus as _dkv_v1_MemberStatus, MemberStatus__Output as _dkv_v1_MemberStatus__Output } from './dkv/v1/MemberStatus';
import type { PingRequest as _dkv_v1_PingRequest, PingRequest__Output as _dkv_v1_PingRequest__Output } from './dkv/v1/PingRequest';
import type { PingResponse as _dkv_v1_PingResponse, PingResponse__Output as _dkv_v1_PingResponse__Output } from './dkv/v1/PingResponse';
import type { PutRequest as _dkv_v1_PutRequest, PutRequest__Output as _dkv_v1_PutRequest__Output } from './dkv/v1/PutRequest';
import type { PutResponse as _dkv_v1_PutResponse, PutResponse__Output as _dkv_v1_PutResponse__Output } from './dkv/v1/PutResponse';
import type { Quorum as _dkv_v1_Quorum, Quorum__Output as _dkv_v1_Quorum__Output } from './dkv/v1/Quorum';
import type { ReplicaClient as _dkv_v1_ReplicaClient, ReplicaDefinition as _dkv_v1_ReplicaDefinition } from './dkv/v1/Replica';
import type { ReplicaGetRequest as _dkv_v1_ReplicaGetRequest, ReplicaGetRequest__Output as _dkv_v1_ReplicaGetRequest__Output } from './dkv/v1/ReplicaGetRequest';
import type { ReplicaGetResponse as _dkv_v1_ReplicaGetResponse, ReplicaGetResponse__Output as _dkv_v1_ReplicaGetResponse__Output } from './dkv/v1/ReplicaGetResponse';
import type { ReplicaPutRequest as _dkv_v1_ReplicaPutRequest, ReplicaPutRequest__Output as _dkv_v1_ReplicaPutRequest__Output } from './dkv/v1/ReplicaPutRequest';
import type { ReplicaPutResponse as _dkv_v1_ReplicaPutResponse, ReplicaPutResponse__Output as _dkv_v1_ReplicaPutResponse__Output } from './dkv/v1/ReplicaPutResponse';
import type { RequestOptions as _dkv_v1_RequestOptions, RequestOptions__Output as _dkv_v1_RequestOptions__Output } from './dkv/v1/RequestOptions';
import type { SetDroppedPeersRequest as _dkv_v1_SetDroppedPeersRequest, SetDroppedPeersRequest__Output as _dkv_v1_SetDroppedPeersRequest__Output } from './dkv/v1/SetDroppedPeersRequest';
import type { SetDroppedPeersResponse as _dkv_v1_SetDroppedPeersResponse, SetDroppedPeersResponse__Output as _dkv_v1_SetDroppedPeersResponse__Output } from './dkv/v1/SetDroppedPeersResponse';
import type { Sibling as _dkv_v1_Sibling, Sibling__Output as _dkv_v1_Sibling__Output } from './dkv/v1/Sibling';
import type { StatusRequest as _dkv_v1_StatusRequest, StatusRequest__Output as _dkv_v1_StatusRequest__Output } from './dkv/v1/StatusRequest';
import type { StatusResponse as _dkv_v1_StatusResponse, StatusResponse__Output as _dkv_v1_StatusResponse__Output } from './dkv/v1/StatusResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dkv: {
    v1: {
      Admin: SubtypeConstructor<typeof grpc.Client, _dkv_v1_AdminClient> & { service: _dkv_v1_AdminDefinition }
      DeleteRequest: MessageTypeDefinition<_dkv_v1_DeleteRequest, _dkv_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_dkv_v1_DeleteResponse, _dkv_v1_DeleteResponse__Output>
      GetRequest: MessageTypeDefinition<_dkv_v1_GetRequest, _dkv_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_dkv_v1_GetResponse, _dkv_v1_GetResponse__Output>
      Handoff: SubtypeConstructor<typeof grpc.Client, _dkv_v1_HandoffClient> & { service: _dkv_v1_HandoffDefinition }
      HintAck: MessageTypeDefinition<_dkv_v1_HintAck, _dkv_v1_HintAck__Output>
      HintBatch: MessageTypeDefinition<_dkv_v1_HintBatch, _dkv_v1_HintBatch__Output>
      HintItem: MessageTypeDefinition<_dkv_v1_HintItem, _dkv_v1_HintItem__Output>
      KV: SubtypeConstructor<typeof grpc.Client, _dkv_v1_KVClient> & { service: _dkv_v1_KVDefinition }
      LocalGetResponse: MessageTypeDefinition<_dkv_v1_LocalGetResponse, _dkv_v1_LocalGetResponse__Output>
      MemberStatus: MessageTypeDefinition<_dkv_v1_MemberStatus, _dkv_v1_MemberStatus__Output>
      PingRequest: MessageTypeDefinition<_dkv_v1_PingRequest, _dkv_v1_PingRequest__Output>
      PingResponse: MessageTypeDefinition<_dkv_v1_PingResponse, _dkv_v1_PingResponse__Output>
      PutRequest: MessageTypeDefinition<_dkv_v1_PutRequest, _dkv_v1_PutRequest__Output>
      PutResponse: MessageTypeDefinition<_dkv_v1_PutResponse, _dkv_v1_PutResponse__Output>
      Quorum: MessageTypeDefinition<_dkv_v1_Quorum, _dkv_v1_Quorum__Output>
      QuorumSymbol: EnumTypeDefinition
      Replica: SubtypeConstructor<typeof grpc.Client, _dkv_v1_ReplicaClient> & { service: _dkv_v1_ReplicaDefinition }
      ReplicaGetRequest: MessageTypeDefinition<_dkv_v1_ReplicaGetRequest, _dkv_v1_ReplicaGetRequest__Output>
      ReplicaGetResponse: MessageTypeDefinition<_dkv_v1_ReplicaGetResponse, _dkv_v1_ReplicaGetResponse__Output>
      ReplicaPutReason: EnumTypeDefinition
      ReplicaPutRequest: MessageTypeDefinition<_dkv_v1_ReplicaPutRequest, _dkv_v1_ReplicaPutRequest__Output>
      ReplicaPutResponse: MessageTypeDefinition<_dkv_v1_ReplicaPutResponse, _dkv_v1_ReplicaPutResponse__Output>
      RequestOptions: MessageTypeDefinition<_dkv_v1_RequestOptions, _dkv_v1_RequestOptions__Output>
      SetDroppedPeersRequest: MessageTypeDefinition<_dkv_v1_SetDroppedPeersRequest, _dkv_v1_SetDroppedPeersRequest__Output>
      SetDroppedPeersResponse: MessageTypeDefinition<_dkv_v1_SetDroppedPeersResponse, _dkv_v1_SetDroppedPeersResponse__Output>
      Sibling: MessageTypeDefinition<_dkv_v1_Sibling, _dkv_v1_Sibling__Output>
      StatusRequest: MessageTypeDefinition<_dkv_v1_StatusRequest, _dkv_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_dkv_v1_StatusResponse, _dkv_v1_StatusResponse__Output>
    }
  }
}

