"""Safetensors files: read strictly (bounds, coverage, dtype) and write F32/I32 tensors, little-endian."""
import json
import struct

import numpy as np
import torch

_NUMPY = {"F32": "<f4", "I32": "<i4", "F64": "<f8", "I64": "<i8"}
_CODES = {torch.float32: "F32", torch.int32: "I32", torch.float64: "F64", torch.int64: "I64"}


def read(path):
    """Returns ({name: tensor}, metadata) of the file at path; raises ValueError naming the problem."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors, spans = {}, []
    for name, info in header.items():
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        fmt = _NUMPY.get(info["dtype"])
        if fmt is None or not 0 <= begin <= end <= len(data) or end - begin != count * np.dtype(fmt).itemsize:
            raise ValueError(f"{path}: tensor {name!r} has a bad dtype or data span")
        tensors[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=fmt).reshape(info["shape"]).copy())
        spans.append((begin, end))
    covered = 0
    for begin, end in sorted(spans):
        if begin != covered:
            raise ValueError(f"{path}: the tensors leave a gap or overlap in the data section")
        covered = end
    if covered != len(data):
        raise ValueError(f"{path}: bytes after the last tensor")
    return tensors, metadata


def to_bytes(tensors, metadata):
    """The file holding tensors (a list of (name, tensor)) and metadata (strings), header padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        code = _CODES[t.dtype]
        blob = t.numpy().astype(_NUMPY[code], copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)
