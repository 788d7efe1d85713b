"""The wire format between the grader's worker and the sandboxed child: plain data only.

One message is an 8-byte big-endian length, a JSON header of that length, then the raw
``.npy`` bytes of every array the header mentions, in order. Arrays inside the payload are
replaced in the JSON by ``{"__ndarray__": i, "nbytes": n}``. Reading uses
``np.load(..., allow_pickle=False)``, so an object array (a pickle in disguise) is refused, and
every length is checked against a cap before anything is read.

>>> blob = encode({"y": np.arange(3.0), "note": "ok"})
>>> decode_bytes(blob)["y"].tolist()
[0.0, 1.0, 2.0]
"""
from __future__ import annotations

import io
import json
import os
import select
import struct
import time
from typing import Any

import numpy as np

HEADER = struct.Struct(">Q")
MAX_HEADER = 8 * 1024 * 1024
MAX_MESSAGE = 768 * 1024 * 1024


class WireError(Exception):
    """The other side sent something that is not a well-formed message (or nothing in time)."""


def _flatten(obj: Any, arrays: list[bytes]) -> Any:
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise WireError("an array of Python objects cannot cross the sandbox: return numbers")
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(obj), allow_pickle=False)
        arrays.append(buf.getvalue())
        return {"__ndarray__": len(arrays) - 1, "nbytes": len(arrays[-1])}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise WireError("dictionary keys crossing the sandbox must be strings")
        return {k: _flatten(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_flatten(v, arrays) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise WireError(f"a {type(obj).__name__} cannot cross the sandbox: only arrays, numbers, strings, lists and dicts")


def encode(payload: Any) -> bytes:
    arrays: list[bytes] = []
    header = json.dumps(_flatten(payload, arrays)).encode()
    return HEADER.pack(len(header)) + header + b"".join(arrays)


def _rebuild(obj: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__ndarray__", "nbytes"}:
            return arrays[obj["__ndarray__"]]
        return {k: _rebuild(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rebuild(v, arrays) for v in obj]
    return obj


def _array_sizes(obj: Any, out: list[int]) -> list[int]:
    if isinstance(obj, dict):
        if set(obj) == {"__ndarray__", "nbytes"}:
            index, nbytes = obj["__ndarray__"], obj["nbytes"]
            if not (isinstance(index, int) and index == len(out) and isinstance(nbytes, int) and nbytes > 0):
                raise WireError("malformed array reference in the header")
            out.append(nbytes)
        else:
            for v in obj.values():
                _array_sizes(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _array_sizes(v, out)
    return out


class Reader:
    """Reads whole messages from a file descriptor, with a deadline and a size cap."""

    def __init__(self, fd: int, max_message: int = MAX_MESSAGE):
        self.fd = fd
        self.max_message = max_message

    def _read_exact(self, n: int, deadline: float | None) -> bytes:
        chunks, got = [], 0
        while got < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                    raise TimeoutError("no complete answer in time")
            chunk = os.read(self.fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError("the other side closed the pipe")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def read(self, deadline: float | None = None) -> Any:
        (length,) = HEADER.unpack(self._read_exact(HEADER.size, deadline))
        if length > min(MAX_HEADER, self.max_message):
            raise WireError(f"header of {length} bytes is over the cap")
        try:
            header = json.loads(self._read_exact(length, deadline))
            sizes = _array_sizes(header, [])
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WireError(f"header is not JSON ({exc})") from None
        except RecursionError:  # e.g. "[" * 100000: plain data is never nested that deep
            raise WireError("header is nested too deeply") from None
        if sum(sizes) + length > self.max_message:
            raise WireError(f"message of {sum(sizes) + length} bytes is over the {self.max_message}-byte cap")
        arrays = []
        for nbytes in sizes:
            try:
                arrays.append(np.load(io.BytesIO(self._read_exact(nbytes, deadline)), allow_pickle=False))
            except (ValueError, OSError) as exc:
                raise WireError(f"array data is not a plain .npy array ({exc})") from None
        try:
            return _rebuild(header, arrays)
        except RecursionError:
            raise WireError("header is nested too deeply") from None


def decode_bytes(blob: bytes, max_message: int = MAX_MESSAGE) -> Any:
    """Decode one message held in memory (the same checks as reading it from a pipe)."""
    stream = io.BytesIO(blob)
    reader = Reader(-1, max_message)
    reader._read_exact = lambda n, deadline: _read_stream(stream, n)
    return reader.read()


def _read_stream(stream: io.BytesIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) < n:
        raise EOFError("the message ends early")
    return data


def _write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    while view:
        if deadline is not None:  # fd is non-blocking: wait until the other side makes room
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise TimeoutError("the other side stopped reading")
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:  # the room went to someone else writing to the same pipe
            continue


def send(fd: int, payload: Any, deadline: float | None = None) -> None:
    """Write one message. With a ``deadline`` (``time.monotonic()`` seconds; ``fd`` set non-blocking),
    raise ``TimeoutError`` when the reader has not taken it all by then, instead of blocking forever."""
    _write_all(fd, encode(payload), deadline)
