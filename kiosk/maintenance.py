"""The maintenance window: when the county pauses certification on a kiosk (issue 14, item 3).

A schedule is a short text, set in kiosk.toml (`maintenance_window`) or sent down by the county
with the cycle policy (`"maintenance_window"` key of the policy dict, which then wins):

    daily 01:00-05:00      every night (an end before the start crosses midnight: 23:00-02:00)
    monthly 1-3            the 1st to the 3rd of each month, whole days (as Beijing's service does)
    monthly 1-3; daily 01:00-05:00      several periods, joined by ";"

Times are the service area's wall clock (the injected `kiosk.core.clock.Clock`'s zone). During the
window `kiosk.service` refuses to start a certification (eligibility code `maintenance`); the
background sync runs a pass and the daily backup at its start (kiosk.sync.engine.BackgroundSync).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kiosk.core.errors import KioskError

_DAILY = re.compile(r"^daily\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_MONTHLY = re.compile(r"^monthly\s+(\d{1,2})\s*-\s*(\d{1,2})$")
_HORIZON_DAYS = 62  # next_start/next_end look this far ahead (two months covers any monthly period)


class ScheduleError(KioskError):
    """The schedule text is not one this program reads."""

    def __init__(self, value: str):
        from kiosk.texts import text

        super().__init__("bad_maintenance_window", text("maint_bad_schedule", detail=value))


@dataclass(frozen=True)
class Period:
    kind: str  # "daily" | "monthly"
    start: tuple[int, int]  # daily: (hour, minute); monthly: (first day, 0)
    end: tuple[int, int]  # daily: (hour, minute), exclusive; monthly: (last day, 0), inclusive

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The naive local intervals of this period that begin on `day`."""
        if self.kind == "daily":
            s = datetime.combine(day, time(*self.start))
            e = datetime.combine(day, time(*self.end))
            if e <= s:  # crosses midnight
                e += timedelta(days=1)
            return [(s, e)]
        first, last = self.start[0], self.end[0]
        if day.day != first:
            return []
        # the last day may not exist this month (monthly 29-31 in February): stop at the month's end
        end_day = day
        while end_day.day < last:
            nxt = end_day + timedelta(days=1)
            if nxt.month != day.month:
                break
            end_day = nxt
        return [(datetime.combine(day, time()), datetime.combine(end_day + timedelta(days=1), time()))]


@dataclass(frozen=True)
class Schedule:
    periods: tuple[Period, ...] = ()
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.periods)

    def to_json(self) -> dict:
        return {"schedule": self.text}


def parse_schedule(text: str | None) -> Schedule:
    """ScheduleError for anything but the forms in the module docstring; "" is no window."""
    text = (text or "").strip()
    periods: list[Period] = []
    for part in (p.strip().lower() for p in text.split(";")):
        if not part:
            continue
        if m := _DAILY.match(part):
            h1, m1, h2, m2 = (int(x) for x in m.groups())
            if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60) or (h1, m1) == (h2, m2):
                raise ScheduleError(text)
            start, end = (h1 % 24, m1 if h1 < 24 else 0), (h2 % 24, m2 if h2 < 24 else 0)
            periods.append(Period("daily", start, end))
        elif m := _MONTHLY.match(part):
            d1, d2 = int(m.group(1)), int(m.group(2))
            if not 1 <= d1 <= d2 <= 31:
                raise ScheduleError(text)
            periods.append(Period("monthly", (d1, 0), (d2, 0)))
        else:
            raise ScheduleError(text)
    return Schedule(tuple(periods), text)


def _intervals(now: datetime, schedule: Schedule) -> list[tuple[datetime, datetime]]:
    """Every interval that may contain `now` or start within the horizon, in `now`'s zone."""
    tz = now.tzinfo
    today = now.replace(tzinfo=None).date()
    out = []
    for offset in range(-31, _HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        for p in schedule.periods:
            out += [(s.replace(tzinfo=tz), e.replace(tzinfo=tz)) for s, e in p.spans(day)]
    return sorted(out)


def _merged(now: datetime, schedule: Schedule) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in _intervals(now, schedule):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def in_window(now: datetime, schedule: Schedule | str) -> bool:
    """Is `now` (an aware datetime in the service area's zone: `clock.now()`) inside the window?"""
    sched = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    return any(s <= now < e for s, e in _merged(now, sched))


def current(now: datetime, schedule: Schedule | str) -> tuple[datetime, datetime] | None:
    """The window `now` is in (start, end), overlapping periods merged; None outside."""
    sched = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    return next(((s, e) for s, e in _merged(now, sched) if s <= now < e), None)


def next_window(now: datetime, schedule: Schedule | str) -> tuple[datetime, datetime] | None:
    """The next window starting after `now` (start, end), or None (no schedule)."""
    sched = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    return next(((s, e) for s, e in _merged(now, sched) if s > now), None)


def schedule_in_force(store, settings) -> Schedule:
    """The county's schedule (sent with the cycle policy) if it sent one, else kiosk.toml's.
    A county text this program cannot read is ignored (the local one stays)."""
    policy = store.get_setting("cycle_rule") if store is not None else None
    if isinstance(policy, dict) and isinstance(policy.get("maintenance_window"), str):
        try:
            return parse_schedule(policy["maintenance_window"])
        except ScheduleError:
            pass
    return parse_schedule(getattr(settings, "maintenance_window", ""))


def status(now: datetime, schedule: Schedule) -> dict:
    """For screens and the heartbeat: {"active", "until", "next_start", "next_end", "schedule"} (ISO)."""
    cur = current(now, schedule)
    nxt = next_window(now, schedule)
    return {"active": cur is not None, "until": cur[1].isoformat() if cur else None,
            "next_start": nxt[0].isoformat() if nxt else None, "next_end": nxt[1].isoformat() if nxt else None,
            "schedule": schedule.text}
