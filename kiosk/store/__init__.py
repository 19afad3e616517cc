"""Local SQLite store: roster, encrypted face templates, attempts, outbox, audit log.

The error classes live here (before the submodule imports at the bottom) so that
`db`, `crypto` and `migrations` can all raise them without import cycles.
"""
from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """`code` is stable English for logs; `message` is plain Chinese for staff: the catalogue's
    `store_<why or code>` filled with `data` (kiosk.texts); `detail` is English for logs."""

    def __init__(self, code: str, message: str | None = None, detail: str = "", *, why: str | None = None,
                 **data: Any):
        if message is None:
            from kiosk.texts import text

            message = text(f"store_{why or code}", **data)
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code = code
        self.message = message
        self.detail = detail
        self.data = data


class StoreCorrupt(StoreError):
    """The file is damaged (quick_check fails, SQLITE_CORRUPT / SQLITE_NOTADB)."""

    def __init__(self, detail: str = ""):
        super().__init__("corrupt", detail=detail)


class StoreFull(StoreError):
    """No space left (SQLITE_FULL / ENOSPC)."""

    def __init__(self, detail: str = ""):
        super().__init__("disk_full", detail=detail)


class StoreReadOnly(StoreError):
    """The disk or the file cannot be written (SQLITE_READONLY / EROFS / EACCES)."""

    def __init__(self, detail: str = ""):
        super().__init__("read_only", detail=detail)


class StoreEmpty(StoreError):
    """kiosk.db is 0 bytes while a backup or a WAL with content exists (not an unfinished first start)."""

    def __init__(self, detail: str = ""):
        super().__init__("empty_file", detail=detail)


class StoreTooNew(StoreError):
    def __init__(self, found: int, supported: int):
        super().__init__("schema_too_new", detail=f"database version {found}, this program supports up to {supported}")
        self.found = found
        self.supported = supported


class TemplateKeyError(StoreError):
    """The key file that protects face templates is missing, damaged or not this database's."""


from .db import Attempt, OutboxItem, Resident, Store  # noqa: E402  (errors must exist first)

__all__ = [
    "Attempt",
    "OutboxItem",
    "Resident",
    "Store",
    "StoreCorrupt",
    "StoreEmpty",
    "StoreError",
    "StoreFull",
    "StoreReadOnly",
    "StoreTooNew",
    "TemplateKeyError",
]
