"""The yearly certification cycle: pure date logic, stdlib only (the terminal and the county hub
judge with this one module, so they never disagree about who is due, overdue or suspended).

Two county-configurable rules decide which dates a certification counts for:

* BirthdayCycle (人社厅发〔2018〕54号): one certification between the birthday month and
  the month before the next birthday counts for that year.
* FixedWindow (e.g. Hebei Laiyuan 2/10–3/25): a yearly window. A certification counts for
  the window year whose window opened most recently, so a late one (after suspension)
  still restores payment for that year.

Both rules split time into contiguous *periods*; each period has a window in which the
certification is due (for BirthdayCycle the window is the whole period) and a deadline
(window end + grace days) after which payment is suspended from the next month.

Codes only: a Status names its catalogue codes (record_*); words are the terminal's
(kiosk.texts, kiosk.policy.Status.message) or the hub's own pages.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

__all__ = [
    "DEFAULT_POLICY", "STATUS_KINDS", "URGENCIES", "BirthdayCycle", "CycleRule", "FixedWindow", "Period", "Status",
    "certification_status", "first_of_next_month", "rule_from_config", "urgency", "valid_until_after",
]

# Safety bound when walking periods since the last certification (~100 years).
_MAX_PERIODS = 100


@dataclass(frozen=True)
class Period:
    """Certifications dated start..end count for this period; due within the window."""

    start: date
    end: date
    window_start: date
    window_end: date
    deadline: date  # window_end + grace: last day before payment is suspended

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    k = year * 12 + (month - 1) + n
    return k // 12, k % 12 + 1


def first_of_next_month(d: date) -> date:
    y, m = _add_months(d.year, d.month, 1)
    return date(y, m, 1)


_first_of_next_month = first_of_next_month


@dataclass(frozen=True)
class BirthdayCycle:
    grace_days: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.grace_days <= 180:
            raise ValueError("grace_days must be between 0 and 180")

    def period(self, birth_date: date, day: date) -> Period:
        return self.period_of_month(birth_date.month, day)

    def period_of_month(self, birth_month: int, day: date) -> Period:
        """The period containing `day` for anyone born in `birth_month` (only the month counts)."""
        m = birth_month
        year = day.year if day >= date(day.year, m, 1) else day.year - 1
        start = date(year, m, 1)
        end_y, end_m = _add_months(year, m, 11)
        end = _last_day(end_y, end_m)
        return Period(start, end, start, end, end + timedelta(days=self.grace_days))

    def to_config(self) -> dict[str, Any]:
        return {"type": "birthday", "grace_days": self.grace_days}


@dataclass(frozen=True)
class FixedWindow:
    start: tuple[int, int] = (2, 10)  # (month, day)
    end: tuple[int, int] = (3, 25)
    grace_days: int = 5

    def __post_init__(self) -> None:
        for month, day in (self.start, self.end):
            date(2024, month, day)  # raises ValueError for impossible dates (29/2 allowed)
        if self.grace_days < 0:
            raise ValueError("grace_days must not be negative")
        for year in (2023, 2024):  # the deadline must come before the next window opens
            p = self._period_of_year(year)
            if p.deadline >= self._open(year + 1):
                raise ValueError("window plus grace must be shorter than a year")

    @property
    def crosses_year(self) -> bool:
        return self.end < self.start

    def _open(self, year: int) -> date:
        return _clamped(year, *self.start)

    def _period_of_year(self, year: int) -> Period:
        opens = self._open(year)
        closes = _clamped(year + self.crosses_year, *self.end)
        return Period(
            start=opens,
            end=self._open(year + 1) - timedelta(days=1),
            window_start=opens,
            window_end=closes,
            deadline=closes + timedelta(days=self.grace_days),
        )

    def period(self, birth_date: date, day: date) -> Period:
        return self.period_of_month(birth_date.month, day)

    def period_of_month(self, birth_month: int, day: date) -> Period:
        """The same window for everyone: the birth month plays no part."""
        year = day.year if day >= self._open(day.year) else day.year - 1
        return self._period_of_year(year)

    def to_config(self) -> dict[str, Any]:
        return {
            "type": "fixed_window",
            "start": list(self.start),
            "end": list(self.end),
            "grace_days": self.grace_days,
        }


def _clamped(year: int, month: int, day: int) -> date:
    """29 February becomes the 28th in common years."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


CycleRule = BirthdayCycle | FixedWindow

# What a terminal does when the county sent no rule and kiosk.toml is left as shipped
# (kiosk.config.Settings: cycle_rule "birthday", grace_days 0); the hub's default too.
DEFAULT_POLICY: dict[str, Any] = {"type": "birthday", "grace_days": 0}


def _month_day(value: Any) -> tuple[int, int]:
    month, day = value
    return int(month), int(day)


def rule_from_config(config: dict[str, Any]) -> CycleRule:
    """Build a rule from county settings, e.g. {"type": "fixed_window", "start": [2, 10], ...}.
    Raises ValueError, KeyError or TypeError for a dict that is not a rule."""
    kind = config.get("type")
    if kind == "birthday":
        return BirthdayCycle(grace_days=int(config.get("grace_days", 0)))
    if kind == "fixed_window":
        return FixedWindow(
            start=_month_day(config["start"]),
            end=_month_day(config["end"]),
            grace_days=int(config.get("grace_days", 5)),
        )
    raise ValueError(f"unknown cycle rule type: {kind!r}")


def valid_until_after(rule: CycleRule, birth_date: date, certified_on: date) -> date:
    """Last day of the period a certification on `certified_on` counts for."""
    return rule.period(birth_date, certified_on).end


# Every Status.kind (front ends find their words in kiosk.texts: status_<kind>, label_status_<kind>).
STATUS_KINDS = ("certified", "data_comparison", "due", "not_yet_open", "overdue", "deceased")


@dataclass(frozen=True)
class Status:
    kind: str  # one of STATUS_KINDS
    cycle_start: date
    cycle_end: date
    valid_until: date | None = None
    due_by: date | None = None
    suspended_since: date | None = None
    code: str = ""  # catalogue code of the status line (record_*), filled with `data`
    notes: tuple[str, ...] = ()  # catalogue codes of sentences that follow it (record_back_pay ...)
    data: dict[str, Any] = field(default_factory=dict, compare=False)  # dates the sentences name


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
    current = rule.period(birth_date, today)
    if deceased:
        return Status("deceased", current.window_start, current.window_end, code="record_deceased")

    # Dates in the future (clock trouble, bad import) prove nothing about today.
    done = [d for d in (last_certified, data_comparison_on) if d is not None and d <= today]
    if any(current.contains(d) for d in done):
        return _certified(rule, birth_date, today, current, last_certified, suspended)

    missed = _first_missed(rule, birth_date, current, done, benefit_start)
    if missed is not None and missed.deadline < today:
        return Status(
            "overdue", current.window_start, current.window_end,
            suspended_since=first_of_next_month(missed.deadline), code="record_overdue",
        )
    if suspended:  # the county has stopped payment even though our dates show no lapse
        return Status("overdue", current.window_start, current.window_end, code="record_overdue")
    if missed is not None:
        return Status(
            "due", current.window_start, current.window_end,
            due_by=missed.deadline, code=_due_code(missed, today),
            data={"deadline": missed.deadline, "window_end": missed.window_end},
        )
    upcoming = _next_required(rule, birth_date, current, benefit_start)
    return Status(
        "not_yet_open", upcoming.window_start, upcoming.window_end,
        due_by=upcoming.deadline, code=_not_yet_open_code(upcoming, today), data={"opens": upcoming.window_start},
    )


def _required(p: Period, benefit_start: date | None) -> bool:
    """A window counts only if the benefit was being paid before it closed."""
    return benefit_start is None or benefit_start <= p.window_end


def _first_missed(rule: CycleRule, birth_date: date, current: Period, done: list[date],
                  benefit_start: date | None) -> Period | None:
    """The earliest required period, up to the current one, with no certification."""
    earlier = [d for d in done if d < current.start]
    latest = max(earlier, default=None)
    if latest is not None and (benefit_start is None or latest >= benefit_start):
        # Walk from the period right after the one the latest certification counted for.
        p = _next(rule, birth_date, rule.period(birth_date, latest))
    elif benefit_start is not None:
        p = rule.period(birth_date, min(benefit_start, current.start))
    else:
        # Nothing known before this period: only the previous one can be judged.
        p = _previous(rule, birth_date, current)
    for _ in range(_MAX_PERIODS):
        if p.start > current.start:
            return None
        if _required(p, benefit_start) and not any(p.contains(d) for d in done):
            return p
        p = _next(rule, birth_date, p)
    return None


def _next_required(rule: CycleRule, birth_date: date, current: Period, benefit_start: date | None) -> Period:
    p = _next(rule, birth_date, current)
    for _ in range(_MAX_PERIODS):
        if _required(p, benefit_start):
            return p
        p = _next(rule, birth_date, p)
    return p


def _next(rule: CycleRule, birth_date: date, p: Period) -> Period:
    return rule.period(birth_date, p.end + timedelta(days=1))


def _previous(rule: CycleRule, birth_date: date, p: Period) -> Period:
    return rule.period(birth_date, p.start - timedelta(days=1))


def _certified(rule: CycleRule, birth_date: date, today: date, current: Period, last_certified: date | None,
               suspended: bool) -> Status:
    by_person = last_certified is not None and current.contains(last_certified)
    nxt = _next(rule, birth_date, current)
    kind = "certified" if by_person else "data_comparison"
    notes: tuple[str, ...] = ()
    if suspended:
        notes = ("record_back_pay",)
    elif isinstance(rule, FixedWindow) and today > current.window_end:
        notes = ("record_next_window",)
    return Status(
        kind, current.window_start, current.window_end,
        valid_until=current.end, due_by=nxt.deadline, code=f"record_{kind}", notes=notes,
        data={"certified_on": last_certified, "valid_until": current.end, "next_opens": nxt.window_start},
    )


def _due_code(p: Period, today: date) -> str:
    return "record_due_grace" if today > p.window_end else "record_due"  # grace days after the window


def _not_yet_open_code(p: Period, today: date) -> str:
    return "record_not_yet_open_this_year" if p.window_start.year == today.year else "record_not_yet_open"


# ---------------------------------------------------------------------------- who must certify
# Most urgent first: payment already stopped, deadline passed (stops next month), never
# certified at all, then the rest by how soon their deadline comes. The terminal's visit and due
# lists (kiosk.visits, kiosk.due) and the hub's (/due, the status page) all sort people with this.
URGENCIES = ("suspended", "overdue", "never_certified", "due")


def urgency(status: Status, today: date, days: int, *, never_certified: bool,
            county_suspended: bool) -> str | None:
    """Where a resident stands on a visit or due list, or None when they need not be listed."""
    if status.kind in ("certified", "data_comparison", "deceased"):
        return None
    if county_suspended or (status.kind == "overdue" and (status.suspended_since is None
                                                          or status.suspended_since <= today)):
        return "suspended"
    if status.kind == "overdue":
        return "overdue"
    if never_certified:
        return "never_certified"
    if status.kind == "due" and status.due_by is not None and status.due_by <= today + timedelta(days=days):
        return "due"
    return None
