// Original file: proto/dkv.proto


export interface PingRequest {
}

export interface PingRequest__Output {
}
