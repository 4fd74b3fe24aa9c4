"""Bytes that prove themselves: a CRC-32 of the data (4 bytes, little-endian), then the data.

Every cache file a page is made from is sealed (the state's head, chunk indexes and stored
articles in cache.py, compiled templates in render.py, Babel's locale data in locales.py):
a changed byte is found where the data is read and the data made anew, never printed on a
page. Light on purpose: imported before the build's heavy imports.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from pathlib import Path


def seal(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "little") + data


def unseal(sealed: bytes | memoryview) -> memoryview:
    """The data of :func:`seal`'s bytes, without a copy; ValueError if its checksum does not match."""
    view = memoryview(sealed)
    if len(view) < 4 or zlib.crc32(view[4:]) != int.from_bytes(view[:4], "little"):
        raise ValueError("its checksum does not match")
    return view[4:]


def read_sealed(path: Path | str) -> memoryview:
    """The data of a file written by :func:`write_sealed` (OSError, ValueError)."""
    with open(path, "rb") as fh:
        return unseal(fh.read())


def write_sealed(path: Path | str, data: bytes) -> None:
    """Write ``data`` sealed to ``path`` atomically: a hidden temporary file beside it, then a
    rename, so a reader sees the old file or the new one. OSError if it cannot be written."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(seal(data))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
