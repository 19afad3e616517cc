"""The county's certification cycle rule at the hub: the very rule the terminals apply.

The rule is the county's `cycle_policy` setting, the dict the hub sends down with the roster
(terminals apply it in kiosk.store.syncstate and judge with kiosk.core.cycle); unset, the hub
judges as a terminal does with no county rule (kiosk.core.cycle.DEFAULT_POLICY). One resident
is judged with kiosk.core.cycle.certification_status itself (due lists, a page of the status
list); counting over the whole roster (300,000 residents) is done in SQL: for a given day each
birth month has one current period, one latest period whose deadline has passed, and so on — a
handful of fixed dates — so the rule becomes a CASE on the resident's birth month whose branches
compare the stored dates with those dates (FixedWindow: the same dates for every month).
`tests/test_cycle_agreement.py` checks the SQL against certification_status on a shared fixture.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from kiosk.core.cycle import (
    DEFAULT_POLICY, BirthdayCycle, CycleRule, FixedWindow, Period, Status, certification_status, rule_from_config,
    urgency,
)

from kiosk.core.ids import birth_date

from .db import HubDB, HubError, Resident

__all__ = ["MonthDates", "certified_condition", "check_policy", "hub_rule", "judge", "overdue_condition",
           "policy", "rule_words", "set_policy", "status_kind_conditions"]


def check_policy(value: Any) -> dict[str, Any]:
    """A county rule as staff give it (a dict or its JSON text) → the dict to store and send down.
    Raises HubError (bad_policy) with what to write instead."""
    import json

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if isinstance(value, dict):
        try:
            rule_from_config(value)
            return value
        except (KeyError, TypeError, ValueError):
            pass
    raise HubError("bad_policy", "认证周期规则写得不对。按生日月认证写 {\"type\": \"birthday\", \"grace_days\": 0}；"
                                 "每年固定时段写 {\"type\": \"fixed_window\", \"start\": [2, 10], \"end\": [3, 25], "
                                 "\"grace_days\": 5}（月、日；宽限天数）。", 400, str(value)[:200])


def policy(hub: HubDB) -> dict[str, Any]:
    """The county's rule as stored (what terminals receive), or the terminals' default."""
    stored = hub.get_setting("cycle_policy")
    if isinstance(stored, dict):
        try:
            rule_from_config(stored)
            return stored
        except (KeyError, TypeError, ValueError):
            pass  # a rule terminals cannot read either: they keep their own (the shipped default)
    return dict(DEFAULT_POLICY)


def set_policy(hub: HubDB, value: Any) -> dict[str, Any]:
    checked = check_policy(value)
    hub.set_setting("cycle_policy", checked)
    return checked


def hub_rule(hub: HubDB) -> CycleRule:
    return rule_from_config(policy(hub))


def rule_words(rule: CycleRule) -> str:
    """The rule in the county staff's words (the hub's pages; the hub has no catalogue)."""
    if isinstance(rule, FixedWindow):
        (sm, sd), (em, ed) = rule.start, rule.end
        grace = f"，截止后宽限 {rule.grace_days} 天" if rule.grace_days else ""
        return (f"每年 {sm}月{sd}日至{'次年' if rule.crosses_year else ''}{em}月{ed}日认证一次{grace}，"
                "过期未认证的从下个月起暂停发放")
    grace = f"，周期结束后宽限 {rule.grace_days} 天" if rule.grace_days else ""
    return (f"按生日月认证（人社厅发〔2018〕54号）：从生日所在月到下一个生日的前一个月内认证一次{grace}，"
            "过期未认证的从下个月起暂停发放")


# ----------------------------------------------------------------------------- one resident

def _d(s: str | None) -> date | None:
    try:
        return date.fromisoformat(s) if s else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Judged:
    status: Status
    urgency: str | None  # kiosk.core.cycle.URGENCIES, or None: needs no reminder
    last: date | None  # the latest certification (person or 大数据比对) up to today


def judge(rule: CycleRule, id_number: str, today: date, *, certified_on: str | None, data_comparison_on: str | None,
          benefit_start: str | None, county_status: str, days: int = 30) -> Judged:
    """One resident as the terminal judges them (kiosk.visits.visit_list): status and urgency."""
    c, dc = _d(certified_on), _d(data_comparison_on)
    born = birth_date(id_number)
    st = certification_status(rule, born, today, last_certified=c, data_comparison_on=dc,
                              benefit_start=_d(benefit_start), suspended=county_status == "suspended",
                              deceased=county_status == "deceased")
    kind = urgency(st, today, days, never_certified=c is None and dc is None,
                   county_suspended=county_status == "suspended")
    last = max((x for x in (c, dc) if x is not None and x <= today), default=None)
    return Judged(st, kind, last)


# ----------------------------------------------------------------------------- the roster, in SQL

@dataclass(frozen=True)
class MonthDates:
    """The fixed dates that decide everyone of one birth month on `today`."""

    current: Period
    previous: Period
    lapsed: Period  # the latest period whose deadline is before today (the current one, or earlier)


def month_dates(rule: CycleRule, birth_month: int, today: date) -> MonthDates:
    cur = rule.period_of_month(birth_month, today)
    prev = rule.period_of_month(birth_month, cur.start - timedelta(days=1))
    lapsed = cur
    while lapsed.deadline >= today:  # at most twice: a deadline is less than a year after its period opens
        lapsed = rule.period_of_month(birth_month, lapsed.start - timedelta(days=1))
    return MonthDates(cur, prev, lapsed)


def _iso(d: date) -> str:
    return d.isoformat()


class _Dates:
    """Conditions on a resident's stored dates (ISO text: compared as text on both dialects).
    Every atom is guarded by IS NOT NULL so no condition is ever NULL (NOT stays exact)."""

    def __init__(self, today: date):
        self.t = _iso(today)
        C, D = Resident.certified_on, Resident.data_comparison_on
        # a certification counts only when dated today or earlier (as certification_status: "dates in
        # the future prove nothing about today")
        self.c_ok = and_(C.is_not(None), C <= self.t)
        self.d_ok = and_(D.is_not(None), D <= self.t)
        self.any_done = or_(self.c_ok, self.d_ok)

    def done_since(self, day: date) -> ColumnElement[bool]:
        """The latest certification (person or 大数据比对, up to today) is on or after `day`."""
        x = _iso(day)
        return or_(and_(self.c_ok, Resident.certified_on >= x), and_(self.d_ok, Resident.data_comparison_on >= x))

    def done_since_benefit(self) -> ColumnElement[bool]:
        B = Resident.benefit_start
        return and_(B.is_not(None), or_(and_(self.c_ok, Resident.certified_on >= B),
                                        and_(self.d_ok, Resident.data_comparison_on >= B)))


def _by_month(rule: CycleRule, today: date, build) -> ColumnElement[bool]:
    if isinstance(rule, FixedWindow):  # everyone alike
        return build(month_dates(rule, 1, today))
    assert isinstance(rule, BirthdayCycle)
    return case({m: build(month_dates(rule, m, today)) for m in range(1, 13)},
                value=Resident.birth_month, else_=false())


def certified_condition(rule: CycleRule, today: date) -> ColumnElement[bool]:
    """Certified for the current period (by the person or 大数据比对): status certified or data_comparison."""
    d = _Dates(today)
    return _by_month(rule, today, lambda md: d.done_since(md.current.start))


def status_kind_conditions(rule: CycleRule, today: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(certified by the person this period, certified this period by 大数据比对 only) — Status.kind
    "certified" and "data_comparison" as the terminal's figures (kiosk.stats) judge them on a day:
    a certification dated after that day is not known yet on it (deceased not excluded here)."""
    d = _Dates(today)
    C = Resident.certified_on

    def person(md: MonthDates) -> ColumnElement[bool]:
        return and_(d.c_ok, C >= _iso(md.current.start))

    def comparison(md: MonthDates) -> ColumnElement[bool]:
        return and_(d.done_since(md.current.start), not_(person(md)))

    return _by_month(rule, today, person), _by_month(rule, today, comparison)


def overdue_condition(rule: CycleRule, today: date) -> ColumnElement[bool]:
    """Status "overdue" (urgency suspended or overdue) for the living: not certified this period, and
    a required period's deadline has passed, or the county has suspended payment. Mirrors
    kiosk.core.cycle.certification_status case by case (_first_missed):

    * a certification L before this period, on or after the benefit start (or none given): the
      first missed period is the one after L's, lapsed iff L < lapsed.start;
    * a benefit start B with no certification since: from B's period (the current one if B is
      later); B's own period is skipped when B is after its window or L falls in it;
    * neither: the previous period is the first missed one."""
    d = _Dates(today)
    B = Resident.benefit_start

    def lapsed(md: MonthDates) -> ColumnElement[bool]:
        q, s = md.lapsed, md.current
        after_cert = and_(d.any_done, or_(B.is_(None), d.done_since_benefit()), not_(d.done_since(q.start)))
        from_benefit_now = (and_(B >= _iso(s.start), B <= _iso(s.window_end))
                            if q.start >= s.start else false())
        from_benefit_before = and_(B < _iso(s.start), or_(
            B < _iso(q.start),
            and_(B <= _iso(q.end), B <= _iso(q.window_end), not_(d.done_since(q.start)))))
        from_benefit = and_(B.is_not(None), not_(d.done_since_benefit()), or_(from_benefit_now, from_benefit_before))
        nothing = and_(B.is_(None), not_(d.any_done), true() if md.previous.start <= q.start else false())
        return and_(not_(d.done_since(s.start)), or_(after_cert, from_benefit, nothing))

    def not_certified(md: MonthDates) -> ColumnElement[bool]:
        return not_(d.done_since(md.current.start))

    return or_(_by_month(rule, today, lapsed),
               and_(Resident.county_status == "suspended", _by_month(rule, today, not_certified)))
