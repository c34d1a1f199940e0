// Original file: proto/dkv.proto


export interface AaeStatusRequest {
}

export interface AaeStatusRequest__Output {
}
