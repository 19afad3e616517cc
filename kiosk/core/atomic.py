"""One atomic file write: readers see the old file or the whole new one, never half of it."""
from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path | str, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` through a sibling temporary file and `os.replace`.

    `durable` also fsyncs the file and its folder (a bundle on a USB stick pulled out
    right after must be complete); without it only atomicity is promised.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        try:
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass
