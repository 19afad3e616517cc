"""One atomic file write: readers see the old file or the whole new one, never half of it."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomic(path: Path | str, data: bytes, *, durable: bool = True, mode: int | None = None) -> None:
    """Write `data` to `path` through a sibling temporary file and `os.replace`.

    `durable` also fsyncs the file and its folder (a bundle on a USB stick pulled out
    right after must be complete); without it only atomicity is promised. `mode` (e.g. 0o600 for
    files holding personal data) is set on the file before any byte is written.
    """
    _replace_atomic(Path(path), lambda f: f.write(data), durable=durable, mode=mode)


def copy_atomic(src: Path | str, dst: Path | str, *, durable: bool = True, mode: int | None = None) -> None:
    """`write_atomic` for a file too large to hold in memory (a program update): copied in 1 MiB chunks."""
    def copy(out: BinaryIO) -> None:
        with open(src, "rb") as f:
            while chunk := f.read(1 << 20):
                out.write(chunk)

    _replace_atomic(Path(dst), copy, durable=durable, mode=mode)


def _replace_atomic(path: Path, write: Callable[[BinaryIO], object], *, durable: bool, mode: int | None) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else mode)
        if mode is not None:
            os.fchmod(fd, mode)  # the file may have been left by an earlier attempt
        with os.fdopen(fd, "wb") as f:
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` survive a power cut (best effort: not every filesystem can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
