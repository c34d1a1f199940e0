# A client made from proto/dkv.proto alone, as any Python program would make one: TLS trusting
# the cluster CA, a bearer token from `dkv user add`. Writes, reads back, reads a bucket without
# a grant, and prints what happened as one JSON line. Run by python-client.test.ts.
# Usage: python3 kv_client.py STUBS_DIR ADDRESS CA_FILE TOKEN
import json
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import dkv_pb2  # noqa: E402
import dkv_pb2_grpc  # noqa: E402

address, ca_file, token = sys.argv[2], sys.argv[3], sys.argv[4]
with open(ca_file, "rb") as f:
    creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(f.read()), grpc.access_token_call_credentials(token)
    )
stub = dkv_pb2_grpc.KVStub(grpc.secure_channel(address, creds))
out = {}
put = stub.Put(dkv_pb2.PutRequest(bucket="photos", key=b"py-1", value=b"from python"), timeout=10)
out["put_context_bytes"] = len(put.context)
got = stub.Get(dkv_pb2.GetRequest(bucket="photos", key=b"py-1"), timeout=10)
out["values"] = [s.value.decode() for s in got.siblings]
# The context of the read replaces the sibling it covers.
stub.Put(
    dkv_pb2.PutRequest(bucket="photos", key=b"py-1", value=b"replaced", context=got.context),
    timeout=10,
)
again = stub.Get(dkv_pb2.GetRequest(bucket="photos", key=b"py-1"), timeout=10)
out["after_replace"] = [s.value.decode() for s in again.siblings]
try:
    stub.Get(dkv_pb2.GetRequest(bucket="secrets", key=b"s1"), timeout=10)
    out["secrets"] = "OK"
except grpc.RpcError as error:
    out["secrets"] = [error.code().name, error.details()]
print(json.dumps(out))
