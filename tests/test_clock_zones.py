"""One clock: a certification belongs to the service area's day (Asia/Shanghai), whatever zone the
machine is set to. A pass at 07:30 Beijing time is 23:30 UTC the day before: it must count as
today's, and so must failed tries on both sides of the UTC midnight (the daily limit)."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk.config import Settings
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.policy import Category
from kiosk.service import CertificationAttempt, CertificationService
from kiosk.store import Store

WANG = "11010519541122123" + check_digit("11010519541122123")  # birthday in November: the cycle is open
BEIJING_0730 = datetime(2026, 11, 24, 7, 30, tzinfo=timezone(timedelta(hours=8)))  # = 2026-11-23 23:30 UTC
MACHINE_ZONES = ["Etc/GMT+12", "Etc/GMT-14", "Asia/Shanghai", "UTC"]


@pytest.fixture(params=MACHINE_ZONES)
def machine_zone(request):
    """The machine's own zone (TZ), restored afterwards; the service area stays Asia/Shanghai."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


class FakeEncoder:
    name = "dlib-128"


@dataclass
class FakeVerdict:
    verdict: str
    reason: str
    steps: list = field(default_factory=lambda: [{"action": "blink", "passed": True, "at_s": 1.0}])
    match: object = None
    liveness: dict = field(default_factory=dict)
    action: str | None = None
    message: str = "…"


@dataclass
class FakeSession:
    """A finished session (the engine is tested elsewhere; here only dates matter)."""

    verdict: FakeVerdict
    state: str = "done"

    def abort(self, reason):  # pragma: no cover - never called for a finished session
        raise AssertionError(reason)


def setup(tmp_path, clock: Clock):
    store = Store.open(tmp_path / "kiosk.db", tmp_path / "template.key", clock=clock)
    store.upsert_resident(WANG, "王建国", village="东村", categories=[Category.PENSION],
                          benefit_start=date(2014, 12, 1), data_comparison_on=date(2025, 12, 1))
    service = CertificationService(store, Settings(attempts_per_day=3), FakeEncoder(), clock=clock)
    return store, service


def certify(service, verdict: str, reason: str):
    view = service.lookup(WANG)
    attempt = CertificationAttempt(view, Category.PENSION, FakeSession(FakeVerdict(verdict, reason)),
                                   service.clock.utc_now())
    return service.record(attempt)


def test_the_clock_is_the_service_areas_not_the_machines(machine_zone):
    clock = Clock.fixed(BEIJING_0730)
    assert clock.today() == date(2026, 11, 24)
    assert clock.utc_now().date() == date(2026, 11, 23)
    assert Clock.system("Asia/Shanghai").now().utcoffset() == timedelta(hours=8)


def test_a_pass_at_0730_beijing_is_dated_that_day_and_certified(tmp_path, machine_zone):
    clock = Clock.fixed(BEIJING_0730, "Asia/Shanghai")
    store, service = setup(tmp_path, clock)
    try:
        assert service.lookup(WANG).status.kind == "due"
        outcome = certify(service, "pass", "ok")
        assert outcome.verdict == "pass" and outcome.attempts_left == 2
        row = store.attempts_for(WANG)[0]
        assert datetime.fromisoformat(row.started_at).date() == date(2026, 11, 23)  # stored in UTC
        assert store.last_certified(WANG) == date(2026, 11, 24)  # dated the Beijing day
        later = CertificationService(store, Settings(attempts_per_day=3), FakeEncoder(),
                                     clock=clock.shifted(timedelta(minutes=5)))
        view = later.lookup(WANG)
        assert view.status.kind == "certified", view.status
        assert "本认证周期已认证" in view.status.message and "2026年11月24日" in view.status.message
        assert view.attempts_left == 2
    finally:
        store.close()


def test_failed_tries_count_across_the_utc_midnight(tmp_path, machine_zone):
    start = Clock.fixed(datetime(2026, 11, 24, 7, 50), "Asia/Shanghai")  # 23:50 UTC the day before
    store, service = setup(tmp_path, start)
    try:
        # The evening before (Beijing): another day, does not count.
        store.record_attempt(resident_id=WANG, category=Category.PENSION, mode="self", verdict="fail",
                             started_at=datetime(2026, 11, 23, 15, 50, tzinfo=timezone.utc),
                             finished_at=datetime(2026, 11, 23, 15, 51, tzinfo=timezone.utc),
                             reason="no_match", message="…")
        assert service.lookup(WANG).attempts_left == 3
        assert certify(service, "fail", "no_match").attempts_left == 2  # 23:50 UTC, 24 Nov in Beijing
        after = CertificationService(store, Settings(attempts_per_day=3), FakeEncoder(),
                                     clock=start.shifted(timedelta(minutes=20)))  # 00:10 UTC
        assert after.lookup(WANG).attempts_left == 2
        assert certify(after, "fail", "no_match").attempts_left == 1
        assert certify(after, "fail", "no_match").attempts_left == 0
        from kiosk.service import ServiceError

        with pytest.raises(ServiceError) as e:
            after.begin(WANG, Category.PENSION)
        assert e.value.code == "attempts_exceeded"
        # The next Beijing morning the tries are back.
        tomorrow = CertificationService(store, Settings(attempts_per_day=3), FakeEncoder(),
                                        clock=start.shifted(timedelta(days=1)))
        assert tomorrow.lookup(WANG).attempts_left == 3
    finally:
        store.close()
