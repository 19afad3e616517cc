"""Certification categories and the yearly certification cycle (the terminal's side).

The cycle rules themselves (BirthdayCycle per 人社厅发〔2018〕54号, FixedWindow with grace days, the
status of a resident on a day) are pure date logic in kiosk.core.cycle, shared with the county
hub so both judge alike; they are re-exported here. This module adds what needs the catalogue:
category labels and the status line in words (Status.message).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import Enum

from kiosk.core import cycle as _cycle
from kiosk.core.cycle import (
    DEFAULT_POLICY,
    STATUS_KINDS,
    BirthdayCycle,
    CycleRule,
    FixedWindow,
    Period,
    rule_from_config,
    valid_until_after,
)

__all__ = [
    "DEFAULT_POLICY", "STATUS_KINDS", "BirthdayCycle", "Category", "CycleRule", "FixedWindow", "Period", "Status",
    "certification_status", "rule_from_config", "valid_until_after",
]


class Category(str, Enum):
    """What kind of benefit is being certified (Inner Mongolia's terminal wording)."""

    PENSION = "pension"
    WORK_INJURY = "work_injury"
    PENSION_SURVIVOR = "pension_survivor"
    WORK_INJURY_SURVIVOR = "work_injury_survivor"
    OTHER = "other"

    @property
    def label(self) -> str:
        from kiosk.texts import category_label

        return category_label(self.value)

    @classmethod
    def parse(cls, text: "str | Category") -> "Category":
        """Accept the stored value, the member name or the Chinese label."""
        if isinstance(text, cls):
            return text
        for c in cls:
            if text in (c.value, c.name, c.label):
                return c
        raise ValueError(f"unknown category: {text!r}")


@dataclass(frozen=True)
class Status(_cycle.Status):
    """kiosk.core.cycle.Status with its status line in words."""

    @property
    def message(self) -> str:
        """The status line in words from the catalogue (dates the Chinese way)."""
        from kiosk.texts import texts

        return texts(self.code or f"record_{self.kind}", *self.notes, **self.data)


def certification_status(
    rule: CycleRule,
    birth_date: date,
    today: date,
    last_certified: date | None = None,
    data_comparison_on: date | None = None,
    benefit_start: date | None = None,
    suspended: bool = False,
    deceased: bool = False,
) -> Status:
    """kiosk.core.cycle.certification_status, as a Status that can say itself."""
    s = _cycle.certification_status(rule, birth_date, today, last_certified, data_comparison_on, benefit_start,
                                    suspended, deceased)
    return Status(**{f.name: getattr(s, f.name) for f in fields(s)})
