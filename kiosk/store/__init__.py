"""Local SQLite store: roster, encrypted face templates, attempts, outbox, audit log.

The error classes live here (before the submodule imports at the bottom) so that
`db`, `crypto` and `migrations` can all raise them without import cycles.
"""
from __future__ import annotations


class StoreError(Exception):
    """`code` is stable English for logs; `message` is plain Chinese for staff."""

    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code = code
        self.message = message
        self.detail = detail


class StoreCorrupt(StoreError):
    def __init__(self, detail: str = ""):
        super().__init__(
            "corrupt",
            "数据库文件已损坏，程序没有改动它。请从备份恢复数据库，或联系县社保局信息科处理。",
            detail,
        )


class StoreFull(StoreError):
    def __init__(self, detail: str = ""):
        super().__init__(
            "disk_full",
            "磁盘空间已满，请清理空间或联系县社保局信息科；已保存的认证记录不会丢失。",
            detail,
        )


class StoreTooNew(StoreError):
    def __init__(self, found: int, supported: int):
        super().__init__(
            "schema_too_new",
            "数据库是更新版本的程序建立的，请先把村口认证程序升级到最新版本；不要删除数据库文件。",
            f"database version {found}, this program supports up to {supported}",
        )
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
    "StoreError",
    "StoreFull",
    "StoreTooNew",
    "TemplateKeyError",
]
