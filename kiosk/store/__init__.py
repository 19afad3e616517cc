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
    """The file is damaged (quick_check fails, SQLITE_CORRUPT / SQLITE_NOTADB)."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "corrupt",
            "数据库文件已损坏，程序没有改动它。请运行 kiosk doctor：它把还能读出的记录（先是待上传的认证记录）"
            "抢救到新的数据库，原文件改名保留、不会删除；如不会操作，请联系县社保局信息科。",
            detail,
        )


class StoreFull(StoreError):
    """No space left (SQLITE_FULL / ENOSPC)."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "disk_full",
            "磁盘已满，新的记录无法保存。请删除不用的文件（如旧的照片、视频、安装包），或联系县社保局信息科；"
            "已保存的记录不会丢失。",
            detail,
        )


class StoreReadOnly(StoreError):
    """The disk or the file cannot be written (SQLITE_READONLY / EROFS / EACCES)."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "read_only",
            "磁盘或数据库文件现在是只读的，新的记录无法保存。请重启本机；如果还是这样，可能是磁盘出了故障"
            "（系统会把出错的磁盘改成只读）或文件权限被改动，请联系县社保局信息科。已保存的记录不会丢失。",
            detail,
        )


class StoreEmpty(StoreError):
    """kiosk.db is 0 bytes while a backup or a WAL with content exists (not an unfinished first start)."""

    def __init__(self, detail: str = ""):
        super().__init__(
            "empty_file",
            "数据库文件是空的（0 字节），可能是断电或磁盘满造成的。请运行 kiosk doctor 从备份恢复"
            "（空文件会改名保留）；如不会操作，请联系县社保局信息科。",
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
    "StoreEmpty",
    "StoreError",
    "StoreFull",
    "StoreReadOnly",
    "StoreTooNew",
    "TemplateKeyError",
]
