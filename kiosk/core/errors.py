"""The one base error: a stable machine code plus a message for people (Chinese, saying what to do next)."""
from __future__ import annotations


class KioskError(Exception):
    """`code` is stable (scripts and --json match on it); `detail` is the sentence a person reads."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail

    @property
    def message(self) -> str:  # the name most callers already use
        return self.detail
