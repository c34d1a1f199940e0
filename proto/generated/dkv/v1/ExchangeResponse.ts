// Original file: proto/dkv.proto

import type { AaeRootsResponse as _dkv_v1_AaeRootsResponse, AaeRootsResponse__Output as _dkv_v1_AaeRootsResponse__Output } from '../../dkv/v1/AaeRootsResponse';
import type { AaeBranchesResponse as _dkv_v1_AaeBranchesResponse, AaeBranchesResponse__Output as _dkv_v1_AaeBranchesResponse__Output } from '../../dkv/v1/AaeBranchesResponse';
import type { AaeLeavesResponse as _dkv_v1_AaeLeavesResponse, AaeLeavesResponse__Output as _dkv_v1_AaeLeavesResponse__Output } from '../../dkv/v1/AaeLeavesResponse';
import type { AaeKeysResponse as _dkv_v1_AaeKeysResponse, AaeKeysResponse__Output as _dkv_v1_AaeKeysResponse__Output } from '../../dkv/v1/AaeKeysResponse';
import type { AaeVersionsResponse as _dkv_v1_AaeVersionsResponse, AaeVersionsResponse__Output as _dkv_v1_AaeVersionsResponse__Output } from '../../dkv/v1/AaeVersionsResponse';
import type { AaeFetchResponse as _dkv_v1_AaeFetchResponse, AaeFetchResponse__Output as _dkv_v1_AaeFetchResponse__Output } from '../../dkv/v1/AaeFetchResponse';
import type { AaeStoreResponse as _dkv_v1_AaeStoreResponse, AaeStoreResponse__Output as _dkv_v1_AaeStoreResponse__Output } from '../../dkv/v1/AaeStoreResponse';

export interface ExchangeResponse {
  'roots'?: (_dkv_v1_AaeRootsResponse | null);
  'branches'?: (_dkv_v1_AaeBranchesResponse | null);
  'leaves'?: (_dkv_v1_AaeLeavesResponse | null);
  'keys'?: (_dkv_v1_AaeKeysResponse | null);
  'versions'?: (_dkv_v1_AaeVersionsResponse | null);
  'fetch'?: (_dkv_v1_AaeFetchResponse | null);
  'store'?: (_dkv_v1_AaeStoreResponse | null);
  'step'?: "roots"|"branches"|"leaves"|"keys"|"versions"|"fetch"|"store";
}

export interface ExchangeResponse__Output {
  'roots'?: (_dkv_v1_AaeRootsResponse__Output | null);
  'branches'?: (_dkv_v1_AaeBranchesResponse__Output | null);
  'leaves'?: (_dkv_v1_AaeLeavesResponse__Output | null);
  'keys'?: (_dkv_v1_AaeKeysResponse__Output | null);
  'versions'?: (_dkv_v1_AaeVersionsResponse__Output | null);
  'fetch'?: (_dkv_v1_AaeFetchResponse__Output | null);
  'store'?: (_dkv_v1_AaeStoreResponse__Output | null);
  'step'?: "roots"|"branches"|"leaves"|"keys"|"versions"|"fetch"|"store";
}
