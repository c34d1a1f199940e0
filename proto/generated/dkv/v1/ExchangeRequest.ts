// Original file: proto/dkv.proto

import type { AaeRootsRequest as _dkv_v1_AaeRootsRequest, AaeRootsRequest__Output as _dkv_v1_AaeRootsRequest__Output } from '../../dkv/v1/AaeRootsRequest';
import type { AaeBranchesRequest as _dkv_v1_AaeBranchesRequest, AaeBranchesRequest__Output as _dkv_v1_AaeBranchesRequest__Output } from '../../dkv/v1/AaeBranchesRequest';
import type { AaeLeavesRequest as _dkv_v1_AaeLeavesRequest, AaeLeavesRequest__Output as _dkv_v1_AaeLeavesRequest__Output } from '../../dkv/v1/AaeLeavesRequest';
import type { AaeKeysRequest as _dkv_v1_AaeKeysRequest, AaeKeysRequest__Output as _dkv_v1_AaeKeysRequest__Output } from '../../dkv/v1/AaeKeysRequest';
import type { AaeVersionsRequest as _dkv_v1_AaeVersionsRequest, AaeVersionsRequest__Output as _dkv_v1_AaeVersionsRequest__Output } from '../../dkv/v1/AaeVersionsRequest';
import type { AaeFetchRequest as _dkv_v1_AaeFetchRequest, AaeFetchRequest__Output as _dkv_v1_AaeFetchRequest__Output } from '../../dkv/v1/AaeFetchRequest';
import type { AaeStoreRequest as _dkv_v1_AaeStoreRequest, AaeStoreRequest__Output as _dkv_v1_AaeStoreRequest__Output } from '../../dkv/v1/AaeStoreRequest';

export interface ExchangeRequest {
  'roots'?: (_dkv_v1_AaeRootsRequest | null);
  'branches'?: (_dkv_v1_AaeBranchesRequest | null);
  'leaves'?: (_dkv_v1_AaeLeavesRequest | null);
  'keys'?: (_dkv_v1_AaeKeysRequest | null);
  'versions'?: (_dkv_v1_AaeVersionsRequest | null);
  'fetch'?: (_dkv_v1_AaeFetchRequest | null);
  'store'?: (_dkv_v1_AaeStoreRequest | null);
  'step'?: "roots"|"branches"|"leaves"|"keys"|"versions"|"fetch"|"store";
}

export interface ExchangeRequest__Output {
  'roots'?: (_dkv_v1_AaeRootsRequest__Output | null);
  'branches'?: (_dkv_v1_AaeBranchesRequest__Output | null);
  'leaves'?: (_dkv_v1_AaeLeavesRequest__Output | null);
  'keys'?: (_dkv_v1_AaeKeysRequest__Output | null);
  'versions'?: (_dkv_v1_AaeVersionsRequest__Output | null);
  'fetch'?: (_dkv_v1_AaeFetchRequest__Output | null);
  'store'?: (_dkv_v1_AaeStoreRequest__Output | null);
  'step'?: "roots"|"branches"|"leaves"|"keys"|"versions"|"fetch"|"store";
}
