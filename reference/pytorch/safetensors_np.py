"""Dependency-free (numpy only) reader and writer for the safetensors format: u64 little-endian header length,
JSON header (dtype, shape, data offsets per tensor, optional string `__metadata__`), then the raw little-endian
C-order data. Debian 12 has no python3-safetensors; this writes the same layout the TypeScript readers parse."""

from __future__ import annotations

import json
import struct

import numpy as np

_NP_TO_ST = {
    np.dtype("float32"): "F32",
    np.dtype("float64"): "F64",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("int16"): "I16",
    np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}
_ST_TO_NP = {v: k for k, v in _NP_TO_ST.items()}


def save_file(tensors: dict[str, np.ndarray], path: str, metadata: dict[str, str] | None = None) -> None:
    header: dict = {}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        if not arr.flags["C_CONTIGUOUS"]:
            arr = arr.copy(order="C")  # (np.ascontiguousarray would turn 0-d into 1-d)
        dt = arr.dtype
        if dt not in _NP_TO_ST:
            raise TypeError(f"{name}: unsupported dtype {dt}")
        data = arr.astype(dt.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": _NP_TO_ST[dt], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # pad the header so the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_file(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        s, e = info["data_offsets"]
        dt = _ST_TO_NP[info["dtype"]].newbyteorder("<")
        out[name] = np.frombuffer(raw[base + s : base + e], dtype=dt).reshape(info["shape"]).astype(dt.newbyteorder("="))
    return out, meta
