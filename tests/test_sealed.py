"""careersite.sealed: a CRC-32 in front of cached bytes, checked where they are read."""

from __future__ import annotations

import pytest

from careersite.sealed import read_sealed, seal, unseal, write_sealed


def test_sealed_bytes_come_back_as_they_were():
    for data in (b"", b"x", bytes(range(256)) * 3):
        assert bytes(unseal(seal(data))) == data
        assert bytes(unseal(memoryview(b"pad" + seal(data))[3:])) == data  # from a slice, without a copy


def test_every_changed_byte_and_a_cut_is_found():
    sealed = seal(b"Gehalt 3.300 \xe2\x82\xac")
    for at in range(len(sealed)):
        changed = bytearray(sealed)
        changed[at] ^= 0x20
        with pytest.raises(ValueError, match="checksum"):
            unseal(bytes(changed))
    for cut in (0, 3, len(sealed) - 1):
        with pytest.raises(ValueError):
            unseal(sealed[:cut])


def test_a_sealed_file_is_replaced_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "data.bin"
    write_sealed(path, b"alt")
    write_sealed(path, b"neu")
    assert bytes(read_sealed(path)) == b"neu"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
    with pytest.raises(OSError):
        write_sealed(tmp_path / "missing" / "data.bin", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
