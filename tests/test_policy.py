from datetime import date

import pytest

from kiosk.policy import (
    BirthdayCycle,
    Category,
    FixedWindow,
    certification_status,
    rule_from_config,
    valid_until_after,
)
from kiosk.texts import text

MSG_DATA_COMPARISON = text("record_data_comparison")
MSG_OVERDUE = text("record_overdue")

MARCH_BORN = date(1950, 3, 5)
BIRTHDAY = BirthdayCycle()
LAIYUAN = FixedWindow(start=(2, 10), end=(3, 25), grace_days=5)
HOHHOT = FixedWindow(start=(3, 11), end=(6, 30), grace_days=0)
WINTER = FixedWindow(start=(12, 1), end=(1, 31), grace_days=0)


# --- categories -------------------------------------------------------------------


def test_categories_have_chinese_labels():
    assert [c.label for c in Category] == [
        "养老资格认证", "工伤资格认证", "养老遗属认证", "工伤遗属认证", "其他待遇认证",
    ]
    assert all(c.name.isascii() for c in Category)


def test_category_parse_accepts_value_name_and_label():
    assert Category.parse("pension") is Category.PENSION
    assert Category.parse("WORK_INJURY_SURVIVOR") is Category.WORK_INJURY_SURVIVOR
    assert Category.parse("养老遗属认证") is Category.PENSION_SURVIVOR
    assert Category.parse(Category.OTHER) is Category.OTHER
    with pytest.raises(ValueError):
        Category.parse("养老")


# --- birthday cycle ---------------------------------------------------------------


def test_certified_in_current_cycle():
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 4, 1), last_certified=date(2026, 3, 5))
    assert s.kind == "certified"
    assert (s.cycle_start, s.cycle_end) == (date(2026, 3, 1), date(2027, 2, 28))
    assert s.valid_until == date(2027, 2, 28)
    assert s.message == "本认证周期已认证（2026年3月5日），有效期至2027年2月28日。"
    assert s.due_by == date(2028, 2, 29)  # the next cycle's last day


def test_leap_year_end_of_february():
    assert valid_until_after(BIRTHDAY, MARCH_BORN, date(2026, 3, 10)) == date(2027, 2, 28)
    assert valid_until_after(BIRTHDAY, MARCH_BORN, date(2027, 3, 10)) == date(2028, 2, 29)
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2027, 5, 1), last_certified=date(2027, 3, 1))
    assert s.valid_until == date(2028, 2, 29)
    assert "2028年2月29日" in s.message


def test_cycle_starts_on_first_of_birth_month_whatever_the_day():
    for born in (date(1950, 5, 29), date(1950, 5, 30), date(1950, 5, 31)):
        s = certification_status(BIRTHDAY, born, date(2026, 5, 1), last_certified=date(2026, 5, 1))
        assert (s.cycle_start, s.cycle_end) == (date(2026, 5, 1), date(2027, 4, 30))
        s = certification_status(BIRTHDAY, born, date(2026, 4, 30), last_certified=date(2025, 5, 2))
        assert s.kind == "certified" and s.valid_until == date(2026, 4, 30)


def test_leap_day_birthday_uses_february_cycle():
    born = date(1952, 2, 29)
    assert valid_until_after(BIRTHDAY, born, date(2027, 2, 1)) == date(2028, 1, 31)
    assert valid_until_after(BIRTHDAY, born, date(2027, 1, 31)) == date(2027, 1, 31)


def test_january_birthday_cycle_is_the_calendar_year():
    born = date(1950, 1, 15)
    s = certification_status(BIRTHDAY, born, date(2026, 12, 31), last_certified=date(2026, 1, 2))
    assert s.kind == "certified" and s.valid_until == date(2026, 12, 31)
    s = certification_status(BIRTHDAY, born, date(2027, 1, 1), last_certified=date(2026, 1, 2))
    assert s.kind == "due"
    assert (s.cycle_start, s.cycle_end) == (date(2027, 1, 1), date(2027, 12, 31))
    assert s.due_by == date(2027, 12, 31)
    assert s.message == "请在2027年12月31日前完成认证。"


def test_december_birthday_across_year_end():
    born = date(1950, 12, 10)
    assert valid_until_after(BIRTHDAY, born, date(2025, 12, 1)) == date(2026, 11, 30)
    assert valid_until_after(BIRTHDAY, born, date(2026, 11, 30)) == date(2026, 11, 30)
    s = certification_status(BIRTHDAY, born, date(2026, 1, 10), last_certified=date(2025, 12, 5))
    assert s.kind == "certified"
    s = certification_status(BIRTHDAY, born, date(2026, 1, 10), last_certified=date(2024, 12, 5))
    assert s.kind == "due" and s.due_by == date(2026, 11, 30)
    s = certification_status(BIRTHDAY, born, date(2026, 1, 10), last_certified=date(2023, 12, 5))
    assert s.kind == "overdue"
    assert s.suspended_since == date(2025, 12, 1)


def test_overdue_when_previous_cycle_missed():
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 4, 1), last_certified=date(2024, 3, 5))
    assert s.kind == "overdue"
    assert s.message == MSG_OVERDUE
    assert s.suspended_since == date(2026, 3, 1)
    assert s.valid_until is None and s.due_by is None


def test_payment_stopped_at_first_missed_cycle():
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 4, 1), last_certified=date(2022, 4, 1))
    assert s.kind == "overdue"
    assert s.suspended_since == date(2024, 3, 1)  # cycle 2023-03..2024-02 was the first missed


def test_grace_days_after_cycle_end():
    rule = BirthdayCycle(grace_days=5)
    born = date(1950, 1, 15)
    s = certification_status(rule, born, date(2027, 1, 3), last_certified=date(2025, 6, 1))
    assert s.kind == "due"
    assert s.due_by == date(2027, 1, 5)
    assert "2026年12月31日结束" in s.message and "2027年1月5日" in s.message
    s = certification_status(rule, born, date(2027, 1, 5), last_certified=date(2025, 6, 1))
    assert s.kind == "due"
    s = certification_status(rule, born, date(2027, 1, 6), last_certified=date(2025, 6, 1))
    assert s.kind == "overdue"
    assert s.suspended_since == date(2027, 2, 1)
    # Certifying during the grace days counts for the new cycle and clears everything.
    s = certification_status(rule, born, date(2027, 1, 6), last_certified=date(2027, 1, 4))
    assert s.kind == "certified" and s.valid_until == date(2027, 12, 31)


def test_certifying_restores_and_mentions_back_pay():
    s = certification_status(
        BIRTHDAY, MARCH_BORN, date(2026, 4, 1), last_certified=date(2026, 4, 1), suspended=True
    )
    assert s.kind == "certified"
    assert "补发" in s.message and s.suspended_since is None


def test_county_suspension_without_current_certification_is_overdue():
    s = certification_status(
        BIRTHDAY, MARCH_BORN, date(2026, 4, 1), last_certified=date(2025, 3, 5), suspended=True
    )
    assert s.kind == "overdue"
    assert s.suspended_since is None  # our dates show no lapse; the county knows why


def test_certifying_twice_in_a_cycle_is_harmless():
    first = valid_until_after(BIRTHDAY, MARCH_BORN, date(2026, 3, 5))
    second = valid_until_after(BIRTHDAY, MARCH_BORN, date(2026, 11, 20))
    assert first == second == date(2027, 2, 28)
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 12, 1), last_certified=date(2026, 11, 20))
    assert s.kind == "certified" and s.valid_until == date(2027, 2, 28)


def test_data_comparison_counts_for_its_cycle():
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 6, 1), data_comparison_on=date(2026, 5, 20))
    assert s.kind == "data_comparison"
    assert s.message == MSG_DATA_COMPARISON
    assert s.valid_until == date(2027, 2, 28)
    # Last cycle by data comparison, this cycle not yet: due, not overdue.
    s = certification_status(
        BIRTHDAY, MARCH_BORN, date(2026, 6, 1),
        last_certified=date(2024, 4, 1), data_comparison_on=date(2025, 5, 20),
    )
    assert s.kind == "due" and s.due_by == date(2027, 2, 28)


def test_own_certification_preferred_over_data_comparison_in_same_cycle():
    s = certification_status(
        BIRTHDAY, MARCH_BORN, date(2026, 6, 1),
        last_certified=date(2026, 5, 1), data_comparison_on=date(2026, 4, 1),
    )
    assert s.kind == "certified"


def test_deceased_wins():
    s = certification_status(
        BIRTHDAY, MARCH_BORN, date(2026, 6, 1), last_certified=date(2026, 5, 1), deceased=True
    )
    assert s.kind == "deceased"
    assert "身故" in s.message and s.valid_until is None


def test_benefit_start_after_last_cycle_is_not_overdue():
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 5, 1), benefit_start=date(2026, 4, 1))
    assert s.kind == "due" and s.due_by == date(2027, 2, 28)


def test_long_standing_benefit_without_any_certification_is_overdue():
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 5, 1), benefit_start=date(2024, 1, 1))
    assert s.kind == "overdue"
    assert s.suspended_since == date(2024, 3, 1)


def test_nothing_known_means_only_previous_cycle_is_judged():
    s = certification_status(BIRTHDAY, MARCH_BORN, date(2026, 5, 1))
    assert s.kind == "overdue" and s.suspended_since == date(2026, 3, 1)


def test_future_certification_date_is_ignored():
    s = certification_status(
        BIRTHDAY, MARCH_BORN, date(2026, 5, 1),
        last_certified=date(2027, 3, 1), benefit_start=date(2026, 4, 1),
    )
    assert s.kind == "due"


# --- fixed windows ----------------------------------------------------------------


def test_window_before_open_already_certified_last_year():
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 1, 20), last_certified=date(2025, 3, 1))
    assert s.kind == "certified"
    assert s.valid_until == date(2026, 2, 9)
    assert (s.cycle_start, s.cycle_end) == (date(2025, 2, 10), date(2025, 3, 25))
    assert "下次认证2026年2月10日开始" in s.message


def test_window_not_yet_open_for_new_beneficiary():
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 1, 20), benefit_start=date(2025, 6, 1))
    assert s.kind == "not_yet_open"
    assert s.message == "本年度认证尚未开始（2月10日开始）。"
    assert (s.cycle_start, s.cycle_end) == (date(2026, 2, 10), date(2026, 3, 25))
    assert s.due_by == date(2026, 3, 30)


def test_window_open():
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 2, 10), last_certified=date(2025, 3, 1))
    assert s.kind == "due"
    assert s.due_by == date(2026, 3, 30)
    assert s.message == "请在2026年3月30日前完成认证。"
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 3, 1), last_certified=date(2026, 2, 11))
    assert s.kind == "certified" and s.valid_until == date(2027, 2, 9)


def test_window_grace_then_suspension():
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 3, 28), last_certified=date(2025, 3, 1))
    assert s.kind == "due" and s.due_by == date(2026, 3, 30)
    assert "2026年3月25日结束" in s.message
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 3, 30), last_certified=date(2025, 3, 1))
    assert s.kind == "due"
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 3, 31), last_certified=date(2025, 3, 1))
    assert s.kind == "overdue" and s.suspended_since == date(2026, 4, 1)


def test_late_certification_after_window_restores():
    s = certification_status(
        LAIYUAN, MARCH_BORN, date(2026, 5, 1), last_certified=date(2026, 4, 20), suspended=True
    )
    assert s.kind == "certified"
    assert "补发" in s.message
    assert s.valid_until == date(2027, 2, 9)


def test_hohhot_suspends_from_july():
    s = certification_status(HOHHOT, MARCH_BORN, date(2024, 6, 30), last_certified=date(2023, 4, 1))
    assert s.kind == "due" and s.due_by == date(2024, 6, 30)
    s = certification_status(HOHHOT, MARCH_BORN, date(2024, 7, 1), last_certified=date(2023, 4, 1))
    assert s.kind == "overdue" and s.suspended_since == date(2024, 7, 1)


def test_window_crossing_year_end():
    assert WINTER.crosses_year
    s = certification_status(WINTER, MARCH_BORN, date(2027, 1, 15), last_certified=date(2026, 12, 5))
    assert s.kind == "certified"
    assert (s.cycle_start, s.cycle_end) == (date(2026, 12, 1), date(2027, 1, 31))
    assert s.valid_until == date(2027, 11, 30)
    s = certification_status(WINTER, MARCH_BORN, date(2027, 1, 15), last_certified=date(2025, 12, 10))
    assert s.kind == "due" and s.due_by == date(2027, 1, 31)
    s = certification_status(WINTER, MARCH_BORN, date(2027, 2, 1), last_certified=date(2025, 12, 10))
    assert s.kind == "overdue" and s.suspended_since == date(2027, 2, 1)
    s = certification_status(WINTER, MARCH_BORN, date(2026, 11, 15), last_certified=date(2025, 12, 10))
    assert s.kind == "certified"
    assert "下次认证2026年12月1日开始" in s.message


def test_window_data_comparison_and_deceased():
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 2, 20), data_comparison_on=date(2026, 2, 15))
    assert s.kind == "data_comparison"
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 2, 20), deceased=True)
    assert s.kind == "deceased"


def test_window_benefit_started_after_window_closed_is_not_overdue():
    s = certification_status(LAIYUAN, MARCH_BORN, date(2026, 5, 1), benefit_start=date(2026, 4, 15))
    assert s.kind == "not_yet_open"
    assert s.message == "下次认证2027年2月10日开始，到时再来认证即可。"


def test_window_validation():
    with pytest.raises(ValueError):
        FixedWindow(start=(2, 30), end=(3, 25))
    with pytest.raises(ValueError):
        FixedWindow(start=(2, 10), end=(2, 1), grace_days=20)  # deadline after next opening
    with pytest.raises(ValueError):
        BirthdayCycle(grace_days=-1)
    leap_start = FixedWindow(start=(2, 29), end=(3, 31), grace_days=0)
    assert valid_until_after(leap_start, MARCH_BORN, date(2027, 3, 1)) == date(2028, 2, 28)


def test_rules_from_county_config_round_trip():
    for rule in (BIRTHDAY, BirthdayCycle(grace_days=5), LAIYUAN, HOHHOT, WINTER):
        assert rule_from_config(rule.to_config()) == rule
    with pytest.raises(ValueError):
        rule_from_config({"type": "monthly"})
