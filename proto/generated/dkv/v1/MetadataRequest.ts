// Original file: proto/dkv.proto


export interface MetadataRequest {
}

export interface MetadataRequest__Output {
}
