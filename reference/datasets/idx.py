"""IDX files (the format MNIST and Fashion-MNIST ship in), parsed strictly.

An IDX file is a 4-byte magic number ``00 00 <dtype code> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the values in C order (big-endian). Anything else (a truncated download, an
HTML error page saved under the right name, a file with trailing garbage) is refused with an
``IDXFormatError`` that names the file, instead of being reshaped into nonsense.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

# dtype code (third magic byte) -> big-endian numpy dtype
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """The bytes are not a well-formed IDX file (or not the one that was expected)."""


def decompress(raw: bytes, source: str) -> bytes:
    """The IDX payload of ``raw``: gunzipped when it starts with the gzip magic, else as is."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise IDXFormatError(
            f"{source} is a damaged or truncated gzip file ({exc}); delete it and fetch it again."
        ) from None


def parse_idx(payload: bytes, source: str = "<bytes>", *, expect_shape=None, expect_dtype=None) -> np.ndarray:
    """Parse an uncompressed IDX payload into a native-endian array.

    expect_shape: a tuple of sizes (None for "any") that the header must declare, e.g. (None, 28, 28).
    expect_dtype: a numpy dtype the values must have (e.g. np.uint8).

    >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 3])).tolist()
    [7, 3]
    """
    if len(payload) < 4:
        raise IDXFormatError(f"{source} is too short to be an IDX file ({len(payload)} bytes).")
    zero1, zero2, code, ndim = payload[:4]
    if zero1 or zero2 or code not in IDX_DTYPES or ndim == 0:
        raise IDXFormatError(
            f"{source} does not start with an IDX magic number (got {payload[:4].hex()}); "
            "it is not an MNIST-style file, or it is still compressed."
        )
    dtype = IDX_DTYPES[code]
    header = 4 + 4 * ndim
    if len(payload) < header:
        raise IDXFormatError(f"{source} is truncated inside its header.")
    shape = tuple(int(d) for d in np.frombuffer(payload, ">u4", count=ndim, offset=4))
    if expect_dtype is not None and dtype.newbyteorder("=") != np.dtype(expect_dtype):
        raise IDXFormatError(f"{source} holds {dtype.name} values, expected {np.dtype(expect_dtype).name}.")
    if expect_shape is not None and (
        len(shape) != len(expect_shape) or any(e is not None and e != s for s, e in zip(shape, expect_shape))
    ):
        want = "x".join("N" if e is None else str(e) for e in expect_shape)
        raise IDXFormatError(f"{source} declares shape {'x'.join(map(str, shape))}, expected {want}.")
    need = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(payload) < need:
        raise IDXFormatError(
            f"{source} is truncated: its header promises {need} bytes but only {len(payload)} are there; "
            "delete it and fetch it again."
        )
    if len(payload) > need:
        raise IDXFormatError(f"{source} has {len(payload) - need} unexpected bytes after the data its header declares.")
    values = np.frombuffer(payload, dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def read_idx(path, **expect) -> np.ndarray:
    """Read an IDX file, gzipped (``.gz``) or not, with the checks of ``parse_idx``."""
    path = Path(path)
    return parse_idx(decompress(path.read_bytes(), str(path)), str(path), **expect)
