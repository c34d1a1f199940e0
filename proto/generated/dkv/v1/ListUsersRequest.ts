// Original file: proto/dkv.proto


export interface ListUsersRequest {
}

export interface ListUsersRequest__Output {
}
