"""kiosk.maintenance: the county's maintenance window, and certification refused during it."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.config import Settings, SettingsError, validate
from kiosk.core.clock import Clock
from kiosk.core.ids import check_digit
from kiosk.maintenance import ScheduleError, current, in_window, next_window, parse_schedule, schedule_in_force
from kiosk.policy import Category
from kiosk.store import Store

BJ = ZoneInfo("Asia/Shanghai")
WANG = "11010519541122123" + check_digit("11010519541122123")


def at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=BJ)


def test_nightly_window_and_its_edges():
    s = parse_schedule("daily 01:00-05:00")
    assert not in_window(at("2026-12-02 00:59:59"), s)
    assert in_window(at("2026-12-02 01:00"), s) and in_window(at("2026-12-02 04:59:59"), s)
    assert not in_window(at("2026-12-02 05:00"), s)
    assert next_window(at("2026-12-02 12:00"), s) == (at("2026-12-03 01:00"), at("2026-12-03 05:00"))
    assert current(at("2026-12-02 02:00"), s) == (at("2026-12-02 01:00"), at("2026-12-02 05:00"))


def test_a_window_across_midnight():
    s = parse_schedule("daily 23:00-02:00")
    assert in_window(at("2026-12-02 23:30"), s) and in_window(at("2026-12-03 01:59"), s)
    assert not in_window(at("2026-12-03 02:00"), s) and not in_window(at("2026-12-02 22:59"), s)
    assert current(at("2026-12-03 00:10"), s) == (at("2026-12-02 23:00"), at("2026-12-03 02:00"))


def test_days_1_to_3_of_each_month():
    s = parse_schedule("monthly 1-3")
    assert in_window(at("2027-01-01 00:00"), s) and in_window(at("2027-01-03 23:59"), s)
    assert not in_window(at("2027-01-04 00:00"), s) and not in_window(at("2026-12-31 23:59"), s)
    assert next_window(at("2026-12-15 08:00"), s) == (at("2027-01-01 00:00"), at("2027-01-04 00:00"))


def test_days_past_the_months_end_stop_at_it_and_periods_merge():
    s = parse_schedule("monthly 28-31")
    assert current(at("2027-02-28 10:00"), s) == (at("2027-02-28 00:00"), at("2027-03-01 00:00"))
    both = parse_schedule("monthly 1-1; daily 22:00-02:00")
    # the night before the 1st runs into the whole day of the 1st, then into the next night
    assert current(at("2027-01-01 12:00"), both) == (at("2026-12-31 22:00"), at("2027-01-02 02:00"))


def test_no_schedule_is_never_in_a_window():
    assert not parse_schedule("") and not in_window(at("2026-12-01 02:00"), "")
    assert next_window(at("2026-12-01 02:00"), "") is None


@pytest.mark.parametrize("bad", ["weekly 1-2", "daily 1-5", "monthly 3-1", "monthly 0-2", "daily 01:00-01:00",
                                 "daily 25:00-02:00"])
def test_a_schedule_this_program_cannot_read_is_refused(bad):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(bad)
    assert info.value.code == "bad_maintenance_window" and "monthly" in info.value.message
    with pytest.raises(SettingsError) as e:
        validate({"maintenance_window": bad})
    assert e.value.key == "maintenance_window"


def test_the_county_policy_overrides_kiosk_toml(tmp_path):
    with Store.open(tmp_path / "kiosk.db", tmp_path / "k" / "template.key", clock=Clock.fixed("2026-12-02")) as s:
        local = replace(Settings(), maintenance_window="daily 01:00-05:00")
        assert schedule_in_force(s, local).text == "daily 01:00-05:00"
        s.set_setting("cycle_rule", {"type": "birthday", "grace_days": 0, "maintenance_window": "monthly 1-3"}, actor="county")
        assert schedule_in_force(s, local).text == "monthly 1-3"
        s.set_setting("cycle_rule", {"type": "birthday", "maintenance_window": "sometimes"}, actor="county")
        assert schedule_in_force(s, local).text == "daily 01:00-05:00"  # unreadable: the local one stays


class _Backend:
    name = "dlib-128"  # lookup asks only which backend's templates to count; no face is compared here


def test_certification_is_refused_during_the_window_with_its_own_code(tmp_path):
    from kiosk.service import CertificationService, ServiceError

    settings = replace(Settings(), maintenance_window="daily 01:00-05:00")
    inside = Clock.fixed(datetime(2026, 12, 2, 2, 30, tzinfo=BJ))
    with Store.open(tmp_path / "kiosk.db", tmp_path / "k" / "template.key", clock=inside) as s:
        s.upsert_resident(WANG, "王建国", categories=[Category.PENSION], benefit_start=date(2014, 12, 1))
        svc = CertificationService(s, settings, _Backend(), clock=inside)
        e = svc.eligibility(WANG)
        assert (e.may_certify, e.code, e.next_step_code) == (False, "maintenance", "come_later")
        assert e.data["until"].startswith("2026-12-02T05:00")
        with pytest.raises(ServiceError) as info:
            svc.begin(WANG)
        assert info.value.code == "maintenance" and "维护" in info.value.message
        outside = CertificationService(s, settings, _Backend(), clock=Clock.fixed(datetime(2026, 12, 2, 9, 0, tzinfo=BJ)))
        assert outside.eligibility(WANG).code == "no_template"  # the next rule in line: the window is over
