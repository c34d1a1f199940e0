// Original file: proto/dkv.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
