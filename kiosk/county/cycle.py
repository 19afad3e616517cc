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
from functools import lru_cache
from datetime import date, timedelta
from typing import Any, Callable

from sqlalchemy import and_, case, false, func, not_, or_, select, true, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kiosk.core.cycle import (
    DEFAULT_POLICY, BirthdayCycle, CycleRule, FixedWindow, Period, Status, certification_status, rule_from_config,
    urgency,
)

from kiosk.core.ids import birth_date

from .db import HubDB, HubError, Resident
from kiosk.county.texts import text

__all__ = ["MonthDates", "certified_condition", "check_policy", "count_overdue", "hub_rule", "judge",
           "overdue_condition", "policy", "rule_words", "set_policy", "status_kind_conditions", "village_counts"]


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
    raise HubError("bad_policy", text("cycle_bad_policy"), 400, str(value)[:200])


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
    """The rule in the county staff's words (the hub's pages and CLI; cycle_* in kiosk.county.texts)."""
    if isinstance(rule, FixedWindow):
        (sm, sd), (em, ed) = rule.start, rule.end
        grace = text("cycle_fixed_grace", grace_days=rule.grace_days) if rule.grace_days else ""
        return text("cycle_fixed_window", sm=sm, sd=sd, next_year=text("cycle_next_year") if rule.crosses_year else '', em=em, ed=ed, grace=grace)
    grace = text("cycle_birthday_grace", grace_days=rule.grace_days) if rule.grace_days else ""
    return text("cycle_birthday", grace=grace)


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

    L is the latest certification by the person (certified_on) or by 大数据比对 (data_comparison_on)
    dated today or earlier: certification_status ignores later dates ("dates in the future prove
    nothing about today"). Conditions that are ever negated are NULL-safe (coalesce)."""

    def __init__(self, today: date):
        self.t = _iso(today)

    def not_since(self, day: date) -> ColumnElement[bool]:
        """L < day (or no L): neither date falls in day..today."""
        x = _iso(day)
        return and_(not_(func.coalesce(Resident.certified_on, "").between(x, self.t)),
                    not_(func.coalesce(Resident.data_comparison_on, "").between(x, self.t)))

    def since(self, day: date) -> ColumnElement[bool]:
        """L >= day (positive use only: NULL where a date is missing)."""
        x = _iso(day)
        return or_(Resident.certified_on.between(x, self.t), Resident.data_comparison_on.between(x, self.t))

    def any_done(self) -> ColumnElement[bool]:
        """There is an L (positive use only)."""
        return or_(Resident.certified_on <= self.t, Resident.data_comparison_on <= self.t)


Build = Callable[[MonthDates], ColumnElement[bool]]


def _by_month(rule: CycleRule, today: date, build: Build) -> ColumnElement[bool]:
    """One condition for everyone: a CASE on the birth month (for a scan in another order, e.g.
    the status list by ID number)."""
    if isinstance(rule, FixedWindow):  # everyone alike
        return build(month_dates(rule, 1, today))
    assert isinstance(rule, BirthdayCycle)
    return case({m: build(month_dates(rule, m, today)) for m in range(1, 13)},
                value=Resident.birth_month, else_=false())


def _branches(rule: CycleRule, today: date, build: Build) -> list[ColumnElement[bool]]:
    """The same as separate conditions per birth month (each a range of the covering index
    ix_residents_cycle, whose first column is the birth month): for counting, where a UNION ALL of
    the months reads each index entry once and tests it against its own month's dates only."""
    if isinstance(rule, FixedWindow):
        return [build(month_dates(rule, 1, today))]
    return [and_(Resident.birth_month == m, build(month_dates(rule, m, today))) for m in range(1, 13)]


def _certified(today: date) -> Build:
    d = _Dates(today)
    return lambda md: d.since(md.current.start)


def certified_condition(rule: CycleRule, today: date) -> ColumnElement[bool]:
    """Certified for the current period (by the person or 大数据比对): status certified or data_comparison."""
    return _by_month(rule, today, _certified(today))


def _kinds(today: date) -> tuple[Build, Build]:
    t = _iso(today)
    C, D = Resident.certified_on, Resident.data_comparison_on

    def person(md: MonthDates) -> ColumnElement[bool]:
        return C.between(_iso(md.current.start), t)

    def comparison(md: MonthDates) -> ColumnElement[bool]:
        s = _iso(md.current.start)
        return and_(D.between(s, t), not_(func.coalesce(C, "").between(s, t)))

    return person, comparison


def status_kind_conditions(rule: CycleRule, today: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(certified by the person this period, certified this period by 大数据比对 only) — Status.kind
    "certified" and "data_comparison" as the terminal's figures (kiosk.stats) judge them on a day:
    a certification dated after that day is not known yet on it (deceased not excluded here)."""
    person, comparison = _kinds(today)
    return _by_month(rule, today, person), _by_month(rule, today, comparison)


def _stopped(today: date) -> Build:
    """Status "overdue" (urgency suspended or overdue) for the living: not certified this period, and
    a required period's deadline has passed, or the county has suspended payment.

    kiosk.core.cycle.certification_status walks periods from the latest certification L (or the
    benefit start B); with Q the latest period whose deadline is before today (the current one, the
    previous, or for a birthday cycle within its grace days the one before), its cases reduce to:
    lapsed ⇔ L < Q.start and (B <= Q.window_end, or no B and either some L or Q is the previous
    period — with neither date only the previous period can be judged). `test_cycle_agreement`
    checks this against certification_status per resident."""
    d = _Dates(today)
    B = Resident.benefit_start

    def stopped(md: MonthDates) -> ColumnElement[bool]:
        q = md.lapsed
        judged = true() if md.previous.start <= q.start else d.any_done()
        lapsed = and_(d.not_since(q.start), or_(B <= _iso(q.window_end), and_(B.is_(None), judged)))
        county = and_(Resident.county_status == "suspended", d.not_since(md.current.start))
        return or_(lapsed, county)

    return stopped


@lru_cache(maxsize=16)
def overdue_condition(rule: CycleRule, today: date) -> ColumnElement[bool]:
    """Overdue or suspended (the status page's list), as one condition (built once a day and rule)."""
    return _by_month(rule, today, _stopped(today))


def _stopped_given(today: date, certified: str) -> Build:
    """_stopped where certified_on is known to lie in one range, so only data_comparison_on is left
    to test: "none" (NULL, or after today: it proves nothing), "before_lapsed" (before Q's start: an
    L that lapsed), "since_lapsed" (Q's start up to the current period's start: only a county
    suspension stops payment)."""
    t, D, B = _iso(today), Resident.data_comparison_on, Resident.benefit_start

    def d_not_since(day: date) -> ColumnElement[bool]:
        return not_(func.coalesce(D, "").between(_iso(day), t))

    def stopped(md: MonthDates) -> ColumnElement[bool]:
        q = md.lapsed
        county = and_(Resident.county_status == "suspended", d_not_since(md.current.start))
        if certified == "since_lapsed":
            return county
        if certified == "before_lapsed":
            judged: ColumnElement[bool] = true()
        else:
            judged = true() if md.previous.start <= q.start else D <= t
        lapsed = and_(d_not_since(q.start), or_(B <= _iso(q.window_end), and_(B.is_(None), judged)))
        return or_(lapsed, county)

    return stopped


@lru_cache(maxsize=16)
def _overdue_branches(rule: CycleRule, today: date) -> tuple[ColumnElement[bool], ...]:
    """The overdue condition split for counting. A birthday cycle: per birth month, and within it by
    ranges of certified_on (the covering index's second column), leaving out the range
    [current period start, today] — certified this period, never overdue (most of a county's roster
    once the year is under way): NULL or after today, before Q (the lapsed period's start), Q up to
    the current start; in each only data_comparison_on is left to test."""
    if isinstance(rule, FixedWindow):
        return tuple(_branches(rule, today, _stopped(today)))
    C, t = Resident.certified_on, _iso(today)
    none, before, since = (_stopped_given(today, k) for k in ("none", "before_lapsed", "since_lapsed"))
    out = []
    for m in range(1, 13):
        md = month_dates(rule, m, today)
        q, cur = _iso(md.lapsed.start), _iso(md.current.start)
        month = Resident.birth_month == m
        out += [and_(month, C.is_(None), none(md)), and_(month, C > t, none(md)), and_(month, C < q, before(md))]
        if q < cur:
            out.append(and_(month, C >= q, C < cur, since(md)))
    return tuple(out)


def count_overdue(s: Session, rule: CycleRule, today: date, *where: ColumnElement[bool],
                  village: str | None = None) -> int:
    """How many residents (matching `where`, of `village`) are overdue or suspended. The whole
    roster: the months counted apart; one village: its own index, with the one CASE."""
    if village is not None:
        return int(s.scalar(select(func.count()).select_from(Resident)
                            .where(*where, Resident.village == village, overdue_condition(rule, today))) or 0)
    parts = [select(func.count().label("n")).select_from(Resident).where(*where, b)
             for b in _overdue_branches(rule, today)]
    if len(parts) == 1:
        return int(s.scalar(parts[0]) or 0)
    months = union_all(*parts).subquery()
    return int(s.scalar(select(func.sum(months.c.n))) or 0)


def village_counts(s: Session, rule: CycleRule, today: date,
                   village: str | None = None) -> list[tuple[str | None, int, int, int, int]]:
    """Per village (sorted): (village, residents, deceased, certified by the person this period,
    certified this period by 大数据比对 only) — the figures' 认证率, as kiosk.stats counts on `today`."""
    person, comparison = _kinds(today)
    alive = Resident.county_status != "deceased"

    def part(month: ColumnElement[bool], md: MonthDates):
        q = (select(Resident.village.label("village"), func.count().label("n"),
                    func.sum(case((not_(alive), 1), else_=0)).label("dead"),
                    func.sum(case((and_(alive, person(md)), 1), else_=0)).label("cert"),
                    func.sum(case((and_(alive, comparison(md)), 1), else_=0)).label("dc"))
             .where(Resident.removed.is_(False), month).group_by(Resident.village))
        return q.where(Resident.village == village) if village else q

    if isinstance(rule, FixedWindow):
        parts = [part(true(), month_dates(rule, 1, today))]
    else:
        parts = [part(Resident.birth_month == m, month_dates(rule, m, today)) for m in range(1, 13)]
    months = union_all(*parts).subquery()
    rows = s.execute(select(months.c.village, func.sum(months.c.n), func.sum(months.c.dead), func.sum(months.c.cert),
                            func.sum(months.c.dc)).group_by(months.c.village).order_by(months.c.village)).all()
    return [(v, int(n or 0), int(dead or 0), int(cert or 0), int(dc or 0)) for v, n, dead, cert, dc in rows]
