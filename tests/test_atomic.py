"""kiosk.core.atomic: a file is replaced whole or not at all (program updates, bundles, settings)."""
from __future__ import annotations

import os
import stat

import pytest

from kiosk.core.atomic import copy_atomic, write_atomic


def test_copy_atomic_copies_a_file_larger_than_its_chunk_whole_and_private(tmp_path):
    src, dst = tmp_path / "update.tar.gz", tmp_path / "staged.tar.gz"
    data = os.urandom(3 * (1 << 20) + 17)  # three full 1 MiB chunks and a short one
    src.write_bytes(data)
    dst.write_bytes(b"the previous update")
    os.chmod(dst, 0o644)
    copy_atomic(src, dst, mode=0o600)
    assert dst.read_bytes() == data
    assert stat.S_IMODE(dst.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["staged.tar.gz", "update.tar.gz"]  # no .part left


def test_a_failed_copy_or_write_leaves_the_old_file_and_no_partial(tmp_path):
    dst = tmp_path / "staged.tar.gz"
    dst.write_bytes(b"the previous update")
    with pytest.raises(FileNotFoundError):
        copy_atomic(tmp_path / "gone.tar.gz", dst, mode=0o600)  # the USB stick was pulled out
    with pytest.raises(TypeError):
        write_atomic(dst, "not bytes")  # type: ignore[arg-type]
    assert dst.read_bytes() == b"the previous update"
    assert [p.name for p in tmp_path.iterdir()] == ["staged.tar.gz"]
