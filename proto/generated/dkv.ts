import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AaeBranchesRequest as _dkv_v1_AaeBranchesRequest, AaeBranchesRequest__Output as _dkv_v1_AaeBranchesRequest__Output } from './dkv/v1/AaeBranchesRequest';
import type { AaeBranchesResponse as _dkv_v1_AaeBranchesResponse, AaeBranchesResponse__Output as _dkv_v1_AaeBranchesResponse__Output } from './dkv/v1/AaeBranchesResponse';
import type { AaeCounters as _dkv_v1_AaeCounters, AaeCounters__Output as _dkv_v1_AaeCounters__Output } from './dkv/v1/AaeCounters';
import type { AaeFetchRequest as _dkv_v1_AaeFetchRequest, AaeFetchRequest__Output as _dkv_v1_AaeFetchRequest__Output } from './dkv/v1/AaeFetchRequest';
import type { AaeFetchResponse as _dkv_v1_AaeFetchResponse, AaeFetchResponse__Output as _dkv_v1_AaeFetchResponse__Output } from './dkv/v1/AaeFetchResponse';
import type { AaeFetched as _dkv_v1_AaeFetched, AaeFetched__Output as _dkv_v1_AaeFetched__Output } from './dkv/v1/AaeFetched';
import type { AaeKeyRef as _dkv_v1_AaeKeyRef, AaeKeyRef__Output as _dkv_v1_AaeKeyRef__Output } from './dkv/v1/AaeKeyRef';
import type { AaeKeyVersion as _dkv_v1_AaeKeyVersion, AaeKeyVersion__Output as _dkv_v1_AaeKeyVersion__Output } from './dkv/v1/AaeKeyVersion';
import type { AaeKeysRequest as _dkv_v1_AaeKeysRequest, AaeKeysRequest__Output as _dkv_v1_AaeKeysRequest__Output } from './dkv/v1/AaeKeysRequest';
import type { AaeKeysResponse as _dkv_v1_AaeKeysResponse, AaeKeysResponse__Output as _dkv_v1_AaeKeysResponse__Output } from './dkv/v1/AaeKeysResponse';
import type { AaeLeavesRequest as _dkv_v1_AaeLeavesRequest, AaeLeavesRequest__Output as _dkv_v1_AaeLeavesRequest__Output } from './dkv/v1/AaeLeavesRequest';
import type { AaeLeavesResponse as _dkv_v1_AaeLeavesResponse, AaeLeavesResponse__Output as _dkv_v1_AaeLeavesResponse__Output } from './dkv/v1/AaeLeavesResponse';
import type { AaeObject as _dkv_v1_AaeObject, AaeObject__Output as _dkv_v1_AaeObject__Output } from './dkv/v1/AaeObject';
import type { AaePartitionStatus as _dkv_v1_AaePartitionStatus, AaePartitionStatus__Output as _dkv_v1_AaePartitionStatus__Output } from './dkv/v1/AaePartitionStatus';
import type { AaeReapKey as _dkv_v1_AaeReapKey, AaeReapKey__Output as _dkv_v1_AaeReapKey__Output } from './dkv/v1/AaeReapKey';
import type { AaeReapRequest as _dkv_v1_AaeReapRequest, AaeReapRequest__Output as _dkv_v1_AaeReapRequest__Output } from './dkv/v1/AaeReapRequest';
import type { AaeReapResponse as _dkv_v1_AaeReapResponse, AaeReapResponse__Output as _dkv_v1_AaeReapResponse__Output } from './dkv/v1/AaeReapResponse';
import type { AaeRootsRequest as _dkv_v1_AaeRootsRequest, AaeRootsRequest__Output as _dkv_v1_AaeRootsRequest__Output } from './dkv/v1/AaeRootsRequest';
import type { AaeRootsResponse as _dkv_v1_AaeRootsResponse, AaeRootsResponse__Output as _dkv_v1_AaeRootsResponse__Output } from './dkv/v1/AaeRootsResponse';
import type { AaeStatusRequest as _dkv_v1_AaeStatusRequest, AaeStatusRequest__Output as _dkv_v1_AaeStatusRequest__Output } from './dkv/v1/AaeStatusRequest';
import type { AaeStatusResponse as _dkv_v1_AaeStatusResponse, AaeStatusResponse__Output as _dkv_v1_AaeStatusResponse__Output } from './dkv/v1/AaeStatusResponse';
import type { AaeStoreRequest as _dkv_v1_AaeStoreRequest, AaeStoreRequest__Output as _dkv_v1_AaeStoreRequest__Output } from './dkv/v1/AaeStoreRequest';
import type { AaeStoreResponse as _dkv_v1_AaeStoreResponse, AaeStoreResponse__Output as _dkv_v1_AaeStoreResponse__Output } from './dkv/v1/AaeStoreResponse';
import type { AaeVersionsRequest as _dkv_v1_AaeVersionsRequest, AaeVersionsRequest__Output as _dkv_v1_AaeVersionsRequest__Output } from './dkv/v1/AaeVersionsRequest';
import type { AaeVersionsResponse as _dkv_v1_AaeVersionsResponse, AaeVersionsResponse__Output as _dkv_v1_AaeVersionsResponse__Output } from './dkv/v1/AaeVersionsResponse';
import type { AccessClient as _dkv_v1_AccessClient, AccessDefinition as _dkv_v1_AccessDefinition } from './dkv/v1/Access';
import type { AccessReply as _dkv_v1_AccessReply, AccessReply__Output as _dkv_v1_AccessReply__Output } from './dkv/v1/AccessReply';
import type { AddUserRequest as _dkv_v1_AddUserRequest, AddUserRequest__Output as _dkv_v1_AddUserRequest__Output } from './dkv/v1/AddUserRequest';
import type { AdminClient as _dkv_v1_AdminClient, AdminDefinition as _dkv_v1_AdminDefinition } from './dkv/v1/Admin';
import type { AntiEntropyClient as _dkv_v1_AntiEntropyClient, AntiEntropyDefinition as _dkv_v1_AntiEntropyDefinition } from './dkv/v1/AntiEntropy';
import type { BatchGetRequest as _dkv_v1_BatchGetRequest, BatchGetRequest__Output as _dkv_v1_BatchGetRequest__Output } from './dkv/v1/BatchGetRequest';
import type { BatchGetResponse as _dkv_v1_BatchGetResponse, BatchGetResponse__Output as _dkv_v1_BatchGetResponse__Output } from './dkv/v1/BatchGetResponse';
import type { BatchGetResult as _dkv_v1_BatchGetResult, BatchGetResult__Output as _dkv_v1_BatchGetResult__Output } from './dkv/v1/BatchGetResult';
import type { BatchPutRequest as _dkv_v1_BatchPutRequest, BatchPutRequest__Output as _dkv_v1_BatchPutRequest__Output } from './dkv/v1/BatchPutRequest';
import type { BatchPutResponse as _dkv_v1_BatchPutResponse, BatchPutResponse__Output as _dkv_v1_BatchPutResponse__Output } from './dkv/v1/BatchPutResponse';
import type { BatchPutResult as _dkv_v1_BatchPutResult, BatchPutResult__Output as _dkv_v1_BatchPutResult__Output } from './dkv/v1/BatchPutResult';
import type { CommitRequest as _dkv_v1_CommitRequest, CommitRequest__Output as _dkv_v1_CommitRequest__Output } from './dkv/v1/CommitRequest';
import type { DeleteRequest as _dkv_v1_DeleteRequest, DeleteRequest__Output as _dkv_v1_DeleteRequest__Output } from './dkv/v1/DeleteRequest';
import type { DeleteResponse as _dkv_v1_DeleteResponse, DeleteResponse__Output as _dkv_v1_DeleteResponse__Output } from './dkv/v1/DeleteResponse';
import type { ExchangeRequest as _dkv_v1_ExchangeRequest, ExchangeRequest__Output as _dkv_v1_ExchangeRequest__Output } from './dkv/v1/ExchangeRequest';
import type { ExchangeResponse as _dkv_v1_ExchangeResponse, ExchangeResponse__Output as _dkv_v1_ExchangeResponse__Output } from './dkv/v1/ExchangeResponse';
import type { GetRequest as _dkv_v1_GetRequest, GetRequest__Output as _dkv_v1_GetRequest__Output } from './dkv/v1/GetRequest';
import type { GetResponse as _dkv_v1_GetResponse, GetResponse__Output as _dkv_v1_GetResponse__Output } from './dkv/v1/GetResponse';
import type { GrantRequest as _dkv_v1_GrantRequest, GrantRequest__Output as _dkv_v1_GrantRequest__Output } from './dkv/v1/GrantRequest';
import type { HandoffClient as _dkv_v1_HandoffClient, HandoffDefinition as _dkv_v1_HandoffDefinition } from './dkv/v1/Handoff';
import type { HintAck as _dkv_v1_HintAck, HintAck__Output as _dkv_v1_HintAck__Output } from './dkv/v1/HintAck';
import type { HintBatch as _dkv_v1_HintBatch, HintBatch__Output as _dkv_v1_HintBatch__Output } from './dkv/v1/HintBatch';
import type { HintItem as _dkv_v1_HintItem, HintItem__Output as _dkv_v1_HintItem__Output } from './dkv/v1/HintItem';
import type { IncomingTransfer as _dkv_v1_IncomingTransfer, IncomingTransfer__Output as _dkv_v1_IncomingTransfer__Output } from './dkv/v1/IncomingTransfer';
import type { ItemStatus as _dkv_v1_ItemStatus, ItemStatus__Output as _dkv_v1_ItemStatus__Output } from './dkv/v1/ItemStatus';
import type { KVClient as _dkv_v1_KVClient, KVDefinition as _dkv_v1_KVDefinition } from './dkv/v1/KV';
import type { LinkFault as _dkv_v1_LinkFault, LinkFault__Output as _dkv_v1_LinkFault__Output } from './dkv/v1/LinkFault';
import type { ListUsersRequest as _dkv_v1_ListUsersRequest, ListUsersRequest__Output as _dkv_v1_ListUsersRequest__Output } from './dkv/v1/ListUsersRequest';
import type { LocalGetResponse as _dkv_v1_LocalGetResponse, LocalGetResponse__Output as _dkv_v1_LocalGetResponse__Output } from './dkv/v1/LocalGetResponse';
import type { MemberStatus as _dkv_v1_MemberStatus, MemberStatus__Output as _dkv_v1_MemberStatus__Output } from './dkv/v1/MemberStatus';
import type { MembershipClient as _dkv_v1_MembershipClient, MembershipDefinition as _dkv_v1_MembershipDefinition } from './dkv/v1/Membership';
import type { MetadataExchange as _dkv_v1_MetadataExchange, MetadataExchange__Output as _dkv_v1_MetadataExchange__Output } from './dkv/v1/MetadataExchange';
import type { MetadataReply as _dkv_v1_MetadataReply, MetadataReply__Output as _dkv_v1_MetadataReply__Output } from './dkv/v1/MetadataReply';
import type { MetadataRequest as _dkv_v1_MetadataRequest, MetadataRequest__Output as _dkv_v1_MetadataRequest__Output } from './dkv/v1/MetadataRequest';
import type { PingRequest as _dkv_v1_PingRequest, PingRequest__Output as _dkv_v1_PingRequest__Output } from './dkv/v1/PingRequest';
import type { PingResponse as _dkv_v1_PingResponse, PingResponse__Output as _dkv_v1_PingResponse__Output } from './dkv/v1/PingResponse';
import type { PlanReply as _dkv_v1_PlanReply, PlanReply__Output as _dkv_v1_PlanReply__Output } from './dkv/v1/PlanReply';
import type { PutRequest as _dkv_v1_PutRequest, PutRequest__Output as _dkv_v1_PutRequest__Output } from './dkv/v1/PutRequest';
import type { PutResponse as _dkv_v1_PutResponse, PutResponse__Output as _dkv_v1_PutResponse__Output } from './dkv/v1/PutResponse';
import type { Quorum as _dkv_v1_Quorum, Quorum__Output as _dkv_v1_Quorum__Output } from './dkv/v1/Quorum';
import type { ReplicaClient as _dkv_v1_ReplicaClient, ReplicaDefinition as _dkv_v1_ReplicaDefinition } from './dkv/v1/Replica';
import type { ReplicaCall as _dkv_v1_ReplicaCall, ReplicaCall__Output as _dkv_v1_ReplicaCall__Output } from './dkv/v1/ReplicaCall';
import type { ReplicaCallBatch as _dkv_v1_ReplicaCallBatch, ReplicaCallBatch__Output as _dkv_v1_ReplicaCallBatch__Output } from './dkv/v1/ReplicaCallBatch';
import type { ReplicaCallError as _dkv_v1_ReplicaCallError, ReplicaCallError__Output as _dkv_v1_ReplicaCallError__Output } from './dkv/v1/ReplicaCallError';
import type { ReplicaCallReply as _dkv_v1_ReplicaCallReply, ReplicaCallReply__Output as _dkv_v1_ReplicaCallReply__Output } from './dkv/v1/ReplicaCallReply';
import type { ReplicaGetRequest as _dkv_v1_ReplicaGetRequest, ReplicaGetRequest__Output as _dkv_v1_ReplicaGetRequest__Output } from './dkv/v1/ReplicaGetRequest';
import type { ReplicaGetResponse as _dkv_v1_ReplicaGetResponse, ReplicaGetResponse__Output as _dkv_v1_ReplicaGetResponse__Output } from './dkv/v1/ReplicaGetResponse';
import type { ReplicaPutRequest as _dkv_v1_ReplicaPutRequest, ReplicaPutRequest__Output as _dkv_v1_ReplicaPutRequest__Output } from './dkv/v1/ReplicaPutRequest';
import type { ReplicaPutResponse as _dkv_v1_ReplicaPutResponse, ReplicaPutResponse__Output as _dkv_v1_ReplicaPutResponse__Output } from './dkv/v1/ReplicaPutResponse';
import type { ReplicaReplyBatch as _dkv_v1_ReplicaReplyBatch, ReplicaReplyBatch__Output as _dkv_v1_ReplicaReplyBatch__Output } from './dkv/v1/ReplicaReplyBatch';
import type { RequestOptions as _dkv_v1_RequestOptions, RequestOptions__Output as _dkv_v1_RequestOptions__Output } from './dkv/v1/RequestOptions';
import type { SessionItem as _dkv_v1_SessionItem, SessionItem__Output as _dkv_v1_SessionItem__Output } from './dkv/v1/SessionItem';
import type { SessionRequest as _dkv_v1_SessionRequest, SessionRequest__Output as _dkv_v1_SessionRequest__Output } from './dkv/v1/SessionRequest';
import type { SessionResponse as _dkv_v1_SessionResponse, SessionResponse__Output as _dkv_v1_SessionResponse__Output } from './dkv/v1/SessionResponse';
import type { SessionResult as _dkv_v1_SessionResult, SessionResult__Output as _dkv_v1_SessionResult__Output } from './dkv/v1/SessionResult';
import type { SetDroppedPeersRequest as _dkv_v1_SetDroppedPeersRequest, SetDroppedPeersRequest__Output as _dkv_v1_SetDroppedPeersRequest__Output } from './dkv/v1/SetDroppedPeersRequest';
import type { SetDroppedPeersResponse as _dkv_v1_SetDroppedPeersResponse, SetDroppedPeersResponse__Output as _dkv_v1_SetDroppedPeersResponse__Output } from './dkv/v1/SetDroppedPeersResponse';
import type { SetLinkFaultsRequest as _dkv_v1_SetLinkFaultsRequest, SetLinkFaultsRequest__Output as _dkv_v1_SetLinkFaultsRequest__Output } from './dkv/v1/SetLinkFaultsRequest';
import type { SetLinkFaultsResponse as _dkv_v1_SetLinkFaultsResponse, SetLinkFaultsResponse__Output as _dkv_v1_SetLinkFaultsResponse__Output } from './dkv/v1/SetLinkFaultsResponse';
import type { Sibling as _dkv_v1_Sibling, Sibling__Output as _dkv_v1_Sibling__Output } from './dkv/v1/Sibling';
import type { StageRequest as _dkv_v1_StageRequest, StageRequest__Output as _dkv_v1_StageRequest__Output } from './dkv/v1/StageRequest';
import type { StatusRequest as _dkv_v1_StatusRequest, StatusRequest__Output as _dkv_v1_StatusRequest__Output } from './dkv/v1/StatusRequest';
import type { StatusResponse as _dkv_v1_StatusResponse, StatusResponse__Output as _dkv_v1_StatusResponse__Output } from './dkv/v1/StatusResponse';
import type { TransferClient as _dkv_v1_TransferClient, TransferDefinition as _dkv_v1_TransferDefinition } from './dkv/v1/Transfer';
import type { TransferBatch as _dkv_v1_TransferBatch, TransferBatch__Output as _dkv_v1_TransferBatch__Output } from './dkv/v1/TransferBatch';
import type { TransferRequest as _dkv_v1_TransferRequest, TransferRequest__Output as _dkv_v1_TransferRequest__Output } from './dkv/v1/TransferRequest';
import type { UserGrant as _dkv_v1_UserGrant, UserGrant__Output as _dkv_v1_UserGrant__Output } from './dkv/v1/UserGrant';
import type { UserInfo as _dkv_v1_UserInfo, UserInfo__Output as _dkv_v1_UserInfo__Output } from './dkv/v1/UserInfo';
import type { UserRequest as _dkv_v1_UserRequest, UserRequest__Output as _dkv_v1_UserRequest__Output } from './dkv/v1/UserRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  dkv: {
    v1: {
      AaeBranchesRequest: MessageTypeDefinition<_dkv_v1_AaeBranchesRequest, _dkv_v1_AaeBranchesRequest__Output>
      AaeBranchesResponse: MessageTypeDefinition<_dkv_v1_AaeBranchesResponse, _dkv_v1_AaeBranchesResponse__Output>
      AaeCounters: MessageTypeDefinition<_dkv_v1_AaeCounters, _dkv_v1_AaeCounters__Output>
      AaeFetchRequest: MessageTypeDefinition<_dkv_v1_AaeFetchRequest, _dkv_v1_AaeFetchRequest__Output>
      AaeFetchResponse: MessageTypeDefinition<_dkv_v1_AaeFetchResponse, _dkv_v1_AaeFetchResponse__Output>
      AaeFetched: MessageTypeDefinition<_dkv_v1_AaeFetched, _dkv_v1_AaeFetched__Output>
      AaeKeyRef: MessageTypeDefinition<_dkv_v1_AaeKeyRef, _dkv_v1_AaeKeyRef__Output>
      AaeKeyVersion: MessageTypeDefinition<_dkv_v1_AaeKeyVersion, _dkv_v1_AaeKeyVersion__Output>
      AaeKeysRequest: MessageTypeDefinition<_dkv_v1_AaeKeysRequest, _dkv_v1_AaeKeysRequest__Output>
      AaeKeysResponse: MessageTypeDefinition<_dkv_v1_AaeKeysResponse, _dkv_v1_AaeKeysResponse__Output>
      AaeLeavesRequest: MessageTypeDefinition<_dkv_v1_AaeLeavesRequest, _dkv_v1_AaeLeavesRequest__Output>
      AaeLeavesResponse: MessageTypeDefinition<_dkv_v1_AaeLeavesResponse, _dkv_v1_AaeLeavesResponse__Output>
      AaeObject: MessageTypeDefinition<_dkv_v1_AaeObject, _dkv_v1_AaeObject__Output>
      AaePartitionStatus: MessageTypeDefinition<_dkv_v1_AaePartitionStatus, _dkv_v1_AaePartitionStatus__Output>
      AaeReapKey: MessageTypeDefinition<_dkv_v1_AaeReapKey, _dkv_v1_AaeReapKey__Output>
      AaeReapRequest: MessageTypeDefinition<_dkv_v1_AaeReapRequest, _dkv_v1_AaeReapRequest__Output>
      AaeReapResponse: MessageTypeDefinition<_dkv_v1_AaeReapResponse, _dkv_v1_AaeReapResponse__Output>
      AaeRootsRequest: MessageTypeDefinition<_dkv_v1_AaeRootsRequest, _dkv_v1_AaeRootsRequest__Output>
      AaeRootsResponse: MessageTypeDefinition<_dkv_v1_AaeRootsResponse, _dkv_v1_AaeRootsResponse__Output>
      AaeStatusRequest: MessageTypeDefinition<_dkv_v1_AaeStatusRequest, _dkv_v1_AaeStatusRequest__Output>
      AaeStatusResponse: MessageTypeDefinition<_dkv_v1_AaeStatusResponse, _dkv_v1_AaeStatusResponse__Output>
      AaeStoreRequest: MessageTypeDefinition<_dkv_v1_AaeStoreRequest, _dkv_v1_AaeStoreRequest__Output>
      AaeStoreResponse: MessageTypeDefinition<_dkv_v1_AaeStoreResponse, _dkv_v1_AaeStoreResponse__Output>
      AaeVersionsRequest: MessageTypeDefinition<_dkv_v1_AaeVersionsRequest, _dkv_v1_AaeVersionsRequest__Output>
      AaeVersionsResponse: MessageTypeDefinition<_dkv_v1_AaeVersionsResponse, _dkv_v1_AaeVersionsResponse__Output>
      Access: SubtypeConstructor<typeof grpc.Client, _dkv_v1_AccessClient> & { service: _dkv_v1_AccessDefinition }
      AccessReply: MessageTypeDefinition<_dkv_v1_AccessReply, _dkv_v1_AccessReply__Output>
      AddUserRequest: MessageTypeDefinition<_dkv_v1_AddUserRequest, _dkv_v1_AddUserRequest__Output>
      Admin: SubtypeConstructor<typeof grpc.Client, _dkv_v1_AdminClient> & { service: _dkv_v1_AdminDefinition }
      AntiEntropy: SubtypeConstructor<typeof grpc.Client, _dkv_v1_AntiEntropyClient> & { service: _dkv_v1_AntiEntropyDefinition }
      BatchGetRequest: MessageTypeDefinition<_dkv_v1_BatchGetRequest, _dkv_v1_BatchGetRequest__Output>
      BatchGetResponse: MessageTypeDefinition<_dkv_v1_BatchGetResponse, _dkv_v1_BatchGetResponse__Output>
      BatchGetResult: MessageTypeDefinition<_dkv_v1_BatchGetResult, _dkv_v1_BatchGetResult__Output>
      BatchPutRequest: MessageTypeDefinition<_dkv_v1_BatchPutRequest, _dkv_v1_BatchPutRequest__Output>
      BatchPutResponse: MessageTypeDefinition<_dkv_v1_BatchPutResponse, _dkv_v1_BatchPutResponse__Output>
      BatchPutResult: MessageTypeDefinition<_dkv_v1_BatchPutResult, _dkv_v1_BatchPutResult__Output>
      CommitRequest: MessageTypeDefinition<_dkv_v1_CommitRequest, _dkv_v1_CommitRequest__Output>
      DeleteRequest: MessageTypeDefinition<_dkv_v1_DeleteRequest, _dkv_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_dkv_v1_DeleteResponse, _dkv_v1_DeleteResponse__Output>
      ExchangeRequest: MessageTypeDefinition<_dkv_v1_ExchangeRequest, _dkv_v1_ExchangeRequest__Output>
      ExchangeResponse: MessageTypeDefinition<_dkv_v1_ExchangeResponse, _dkv_v1_ExchangeResponse__Output>
      GetRequest: MessageTypeDefinition<_dkv_v1_GetRequest, _dkv_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_dkv_v1_GetResponse, _dkv_v1_GetResponse__Output>
      GrantRequest: MessageTypeDefinition<_dkv_v1_GrantRequest, _dkv_v1_GrantRequest__Output>
      Handoff: SubtypeConstructor<typeof grpc.Client, _dkv_v1_HandoffClient> & { service: _dkv_v1_HandoffDefinition }
      HintAck: MessageTypeDefinition<_dkv_v1_HintAck, _dkv_v1_HintAck__Output>
      HintBatch: MessageTypeDefinition<_dkv_v1_HintBatch, _dkv_v1_HintBatch__Output>
      HintItem: MessageTypeDefinition<_dkv_v1_HintItem, _dkv_v1_HintItem__Output>
      IncomingTransfer: MessageTypeDefinition<_dkv_v1_IncomingTransfer, _dkv_v1_IncomingTransfer__Output>
      ItemStatus: MessageTypeDefinition<_dkv_v1_ItemStatus, _dkv_v1_ItemStatus__Output>
      KV: SubtypeConstructor<typeof grpc.Client, _dkv_v1_KVClient> & { service: _dkv_v1_KVDefinition }
      LinkFault: MessageTypeDefinition<_dkv_v1_LinkFault, _dkv_v1_LinkFault__Output>
      ListUsersRequest: MessageTypeDefinition<_dkv_v1_ListUsersRequest, _dkv_v1_ListUsersRequest__Output>
      LocalGetResponse: MessageTypeDefinition<_dkv_v1_LocalGetResponse, _dkv_v1_LocalGetResponse__Output>
      MemberStatus: MessageTypeDefinition<_dkv_v1_MemberStatus, _dkv_v1_MemberStatus__Output>
      Membership: SubtypeConstructor<typeof grpc.Client, _dkv_v1_MembershipClient> & { service: _dkv_v1_MembershipDefinition }
      MetadataExchange: MessageTypeDefinition<_dkv_v1_MetadataExchange, _dkv_v1_MetadataExchange__Output>
      MetadataReply: MessageTypeDefinition<_dkv_v1_MetadataReply, _dkv_v1_MetadataReply__Output>
      MetadataRequest: MessageTypeDefinition<_dkv_v1_MetadataRequest, _dkv_v1_MetadataRequest__Output>
      PingRequest: MessageTypeDefinition<_dkv_v1_PingRequest, _dkv_v1_PingRequest__Output>
      PingResponse: MessageTypeDefinition<_dkv_v1_PingResponse, _dkv_v1_PingResponse__Output>
      PlanReply: MessageTypeDefinition<_dkv_v1_PlanReply, _dkv_v1_PlanReply__Output>
      PutRequest: MessageTypeDefinition<_dkv_v1_PutRequest, _dkv_v1_PutRequest__Output>
      PutResponse: MessageTypeDefinition<_dkv_v1_PutResponse, _dkv_v1_PutResponse__Output>
      Quorum: MessageTypeDefinition<_dkv_v1_Quorum, _dkv_v1_Quorum__Output>
      QuorumSymbol: EnumTypeDefinition
      Replica: SubtypeConstructor<typeof grpc.Client, _dkv_v1_ReplicaClient> & { service: _dkv_v1_ReplicaDefinition }
      ReplicaCall: MessageTypeDefinition<_dkv_v1_ReplicaCall, _dkv_v1_ReplicaCall__Output>
      ReplicaCallBatch: MessageTypeDefinition<_dkv_v1_ReplicaCallBatch, _dkv_v1_ReplicaCallBatch__Output>
      ReplicaCallError: MessageTypeDefinition<_dkv_v1_ReplicaCallError, _dkv_v1_ReplicaCallError__Output>
      ReplicaCallReply: MessageTypeDefinition<_dkv_v1_ReplicaCallReply, _dkv_v1_ReplicaCallReply__Output>
      ReplicaGetRequest: MessageTypeDefinition<_dkv_v1_ReplicaGetRequest, _dkv_v1_ReplicaGetRequest__Output>
      ReplicaGetResponse: MessageTypeDefinition<_dkv_v1_ReplicaGetResponse, _dkv_v1_ReplicaGetResponse__Output>
      ReplicaPutReason: EnumTypeDefinition
      ReplicaPutRequest: MessageTypeDefinition<_dkv_v1_ReplicaPutRequest, _dkv_v1_ReplicaPutRequest__Output>
      ReplicaPutResponse: MessageTypeDefinition<_dkv_v1_ReplicaPutResponse, _dkv_v1_ReplicaPutResponse__Output>
      ReplicaReplyBatch: MessageTypeDefinition<_dkv_v1_ReplicaReplyBatch, _dkv_v1_ReplicaReplyBatch__Output>
      RequestOptions: MessageTypeDefinition<_dkv_v1_RequestOptions, _dkv_v1_RequestOptions__Output>
      SessionItem: MessageTypeDefinition<_dkv_v1_SessionItem, _dkv_v1_SessionItem__Output>
      SessionRequest: MessageTypeDefinition<_dkv_v1_SessionRequest, _dkv_v1_SessionRequest__Output>
      SessionResponse: MessageTypeDefinition<_dkv_v1_SessionResponse, _dkv_v1_SessionResponse__Output>
      SessionResult: MessageTypeDefinition<_dkv_v1_SessionResult, _dkv_v1_SessionResult__Output>
      SetDroppedPeersRequest: MessageTypeDefinition<_dkv_v1_SetDroppedPeersRequest, _dkv_v1_SetDroppedPeersRequest__Output>
      SetDroppedPeersResponse: MessageTypeDefinition<_dkv_v1_SetDroppedPeersResponse, _dkv_v1_SetDroppedPeersResponse__Output>
      SetLinkFaultsRequest: MessageTypeDefinition<_dkv_v1_SetLinkFaultsRequest, _dkv_v1_SetLinkFaultsRequest__Output>
      SetLinkFaultsResponse: MessageTypeDefinition<_dkv_v1_SetLinkFaultsResponse, _dkv_v1_SetLinkFaultsResponse__Output>
      Sibling: MessageTypeDefinition<_dkv_v1_Sibling, _dkv_v1_Sibling__Output>
      StageRequest: MessageTypeDefinition<_dkv_v1_StageRequest, _dkv_v1_StageRequest__Output>
      StatusRequest: MessageTypeDefinition<_dkv_v1_StatusRequest, _dkv_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_dkv_v1_StatusResponse, _dkv_v1_StatusResponse__Output>
      Transfer: SubtypeConstructor<typeof grpc.Client, _dkv_v1_TransferClient> & { service: _dkv_v1_TransferDefinition }
      TransferBatch: MessageTypeDefinition<_dkv_v1_TransferBatch, _dkv_v1_TransferBatch__Output>
      TransferRequest: MessageTypeDefinition<_dkv_v1_TransferRequest, _dkv_v1_TransferRequest__Output>
      UserGrant: MessageTypeDefinition<_dkv_v1_UserGrant, _dkv_v1_UserGrant__Output>
      UserInfo: MessageTypeDefinition<_dkv_v1_UserInfo, _dkv_v1_UserInfo__Output>
      UserRequest: MessageTypeDefinition<_dkv_v1_UserRequest, _dkv_v1_UserRequest__Output>
    }
  }
}

