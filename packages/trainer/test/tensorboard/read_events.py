# Reads a TensorBoard event file with an independent implementation: TFRecord framing with its masked CRC-32C
# checks (written here in Python), and the Event protocol buffers parsed by python3-protobuf with the modules protoc
# generated from TensorBoard's own event.proto and its imports (fixtures/tensorboard/proto).
# Usage: read_events.py GENERATED_DIR EVENT_FILE  → JSON list of events on stdout.
import json
import os
import struct
import sys

# protoc writes no __init__.py; regular packages make sure an installed tensorboard cannot shadow the generated one
for sub in ("tensorboard", "tensorboard/compat", "tensorboard/compat/proto"):
    open(os.path.join(sys.argv[1], sub, "__init__.py"), "a").close()
sys.path.insert(0, sys.argv[1])
from tensorboard.compat.proto import event_pb2  # noqa: E402


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


events = []
with open(sys.argv[2], "rb") as f:
    raw = f.read()
pos = 0
while pos < len(raw):
    header = raw[pos : pos + 8]
    (length,) = struct.unpack("<Q", header)
    (length_crc,) = struct.unpack("<I", raw[pos + 8 : pos + 12])
    if length_crc != masked(header):
        raise SystemExit("bad length CRC at %d" % pos)
    data = raw[pos + 12 : pos + 12 + length]
    (data_crc,) = struct.unpack("<I", raw[pos + 12 + length : pos + 16 + length])
    if data_crc != masked(data):
        raise SystemExit("bad data CRC at %d" % pos)
    event = event_pb2.Event()
    event.ParseFromString(data)
    # every field is one the full schema knows: dropping unknown fields changes nothing
    known = event_pb2.Event()
    known.CopyFrom(event)
    known.DiscardUnknownFields()
    if known.SerializeToString(deterministic=True) != event.SerializeToString(deterministic=True):
        raise SystemExit("record at %d has fields the Event schema does not know" % pos)
    pos += 16 + length
    out = {"wall_time": event.wall_time, "step": event.step, "what": event.WhichOneof("what")}
    if out["what"] == "file_version":
        out["file_version"] = event.file_version
    elif out["what"] == "summary":
        out["scalars"] = {v.tag: v.simple_value for v in event.summary.value}
        out["kinds"] = sorted({v.WhichOneof("value") for v in event.summary.value})
    events.append(out)
print(json.dumps(events))
