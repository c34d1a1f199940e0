// Original file: proto/dkv.proto


export interface DeleteResponse {
}

export interface DeleteResponse__Output {
}
