"""One clock for the whole program: the service area's time zone, injected everywhere.

A certification belongs to the *local* day in the service area (Asia/Shanghai by
default), whatever zone the machine's own clock is set to: a kiosk left on UTC must not
date a pass at 07:00 Beijing time as "yesterday". Nothing else in the program asks
the machine for its date or a naive `datetime.now`; it asks a `Clock`.

- `Clock(zone)` reads the system clock; `Clock.fixed(...)` stands still (tests, replays);
- `now()` is timezone-aware (in the service zone), `utc_now()` is the same instant in UTC,
  `today()` is the service area's date.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
ZONE_ENV = "KIOSK_TIMEZONE"  # overrides the setting, e.g. for a county in another zone


def zone(name: str | None = None) -> ZoneInfo:
    """The named IANA zone (default: $KIOSK_TIMEZONE, else Asia/Shanghai)."""
    name = name or os.environ.get(ZONE_ENV) or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as {DEFAULT_ZONE}") from e


@dataclass(frozen=True)
class Clock:
    """The service area's clock. `fixed_at` (aware) freezes it; `offset` shifts a real clock."""

    tz: ZoneInfo
    fixed_at: datetime | None = None
    offset: timedelta = timedelta(0)

    @classmethod
    def system(cls, zone_name: str | None = None) -> "Clock":
        return cls(zone(zone_name))

    @classmethod
    def fixed(cls, when: datetime | date | str, zone_name: str | None = None) -> "Clock":
        """A clock that stands still at `when` (a date means 10:00 local time that day)."""
        tz = zone(zone_name)
        if isinstance(when, str):
            when = datetime.fromisoformat(when) if "T" in when or " " in when else date.fromisoformat(when)
        if not isinstance(when, datetime):
            when = datetime(when.year, when.month, when.day, 10, 0, tzinfo=tz)
        elif when.tzinfo is None:
            when = when.replace(tzinfo=tz)
        return cls(tz, fixed_at=when)

    def now(self) -> datetime:
        """Aware local time in the service area."""
        base = self.fixed_at if self.fixed_at is not None else datetime.now(timezone.utc)
        return (base + self.offset).astimezone(self.tz)

    def utc_now(self) -> datetime:
        return self.now().astimezone(timezone.utc)

    def today(self) -> date:
        """The service area's date (never the machine zone's)."""
        return self.now().date()

    def timestamp(self) -> float:
        return self.now().timestamp()

    def local_date(self, instant: datetime | str) -> date:
        """The service-area date of an aware instant (or an ISO string with offset)."""
        if isinstance(instant, str):
            instant = datetime.fromisoformat(instant)
        if instant.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return instant.astimezone(self.tz).date()

    def start_of(self, day: date) -> datetime:
        """00:00 of a service-area day, aware."""
        return datetime(day.year, day.month, day.day, tzinfo=self.tz)

    def shifted(self, delta: timedelta) -> "Clock":
        return Clock(self.tz, self.fixed_at, self.offset + delta)


def utc_iso(dt: datetime) -> str:
    """ISO-8601 in UTC with offset, millisecond precision: one format, so stored strings sort."""
    if dt.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds")


_default: Clock | None = None


def default_clock() -> Clock:
    """The process-wide system clock in the configured zone (front ends pass their own down)."""
    global _default
    if _default is None:
        _default = Clock.system()
    return _default
