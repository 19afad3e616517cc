from datetime import date

import pytest

from kiosk.core.ids import (
    InvalidIdNumber,
    ResidentId,
    age_on,
    check_digit,
    check_partial,
    mask_id,
    mask_name,
    parse_id_number,
)

TODAY = date(2026, 3, 5)


def gb11643(first17: str) -> str:
    """Independent check-digit computation, written out from the standard."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def make_id(first17: str) -> str:
    return first17 + gb11643(first17)


def test_weights_in_test_helper_match_the_standard():
    assert [2 ** (17 - i) % 11 for i in range(17)] == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


@pytest.mark.parametrize(
    "first17",
    ["11010519491231002", "44030419800101001", "65010219550615123", "81000019700228456", "15010220000229888"],
)
def test_check_digit_matches_independent_computation(first17):
    assert check_digit(first17) == gb11643(first17)
    assert parse_id_number(make_id(first17), TODAY).number == make_id(first17)


def test_parse_known_valid_number():
    rid = parse_id_number("11010519491231002X", TODAY)
    assert rid == ResidentId("11010519491231002X", "110105", date(1949, 12, 31), "女")
    assert rid.masked == "110105********002X"


def test_sex_from_17th_digit():
    assert parse_id_number(make_id("44030419800101001"), TODAY).sex == "男"  # 1 is odd
    assert parse_id_number(make_id("44030419800101002"), TODAY).sex == "女"
    assert parse_id_number(make_id("44030419800101009"), TODAY).sex == "男"


def test_accepts_spaces_lowercase_x_and_full_width_digits():
    assert parse_id_number("  11010519491231002x \n", TODAY).number == "11010519491231002X"
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert parse_id_number(full_width, TODAY).number == "11010519491231002X"


def test_leap_day_birth_is_valid():
    rid = parse_id_number(make_id("15010220000229888"), TODAY)
    assert rid.birth_date == date(2000, 2, 29)


def error_of(text, today=TODAY) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(text, today)
    assert isinstance(info.value, ValueError)
    return info.value


def test_wrong_length_says_how_many_digits_were_typed():
    e = error_of("11010519491231002")
    assert e.code == "length"
    assert e.message == "身份证号码应为18位，您输入了17位，请核对。"
    assert error_of("11010519491231002X1").code == "length"
    assert error_of("").message == "身份证号码应为18位，您输入了0位，请核对。"


@pytest.mark.parametrize("text", ["11010519491231002A", "1101051949123100X2", "11010519491-31002X", "X10105194912310021"])
def test_non_digit_characters(text):
    e = error_of(text)
    assert e.code == "characters"
    assert "X" in e.message


@pytest.mark.parametrize("first", ["0", "9"])
def test_region_first_digit_must_be_1_to_8(first):
    e = error_of(make_id(first + "1010519491231002"))
    assert e.code == "region"
    assert "1到8" in e.message


@pytest.mark.parametrize(
    "birth",
    ["19491331", "19490230", "19000229", "19490100", "18991231"],
)
def test_impossible_or_too_early_birth_dates(birth):
    e = error_of(make_id("110105" + birth + "002"))
    assert e.code == "birth_date"


def test_future_birth_date():
    e = error_of(make_id("11010520260306002"), today=date(2026, 3, 5))
    assert e.code == "birth_date"
    assert "晚于今天" in e.message
    assert parse_id_number(make_id("11010520260305002"), today=date(2026, 3, 5)).birth_date == TODAY


def test_wrong_check_digit():
    e = error_of("110105194912310021")
    assert e.code == "check_digit"
    assert e.message == "身份证号码最后一位校验不对，请逐位核对号码。"


@pytest.mark.parametrize(
    "typed",
    ["", "1", "1101", "110105", "1101051", "11010519", "1101051949", "11010519491", "110105194912",
     "1101051949123", "11010519491231", "11010519491231002", "11010519491231002x", "110105200002"],
)
def test_partial_still_possible(typed):
    assert check_partial(typed, TODAY) is None


@pytest.mark.parametrize(
    "typed, hint_part",
    [
        ("0", "1到8"),
        ("9110", "1到8"),
        ("11X", "最后一位"),
        ("11010a", "只能是数字"),
        ("1101053", "出生日期"),  # no year starting with 3
        ("1101051899", "出生日期"),  # before 1900
        ("1101052099", "出生日期"),  # after today
        ("1101051949131", "出生日期"),  # no month 13..19
        ("11010519491301", "不是有效的日期"),
        ("11010519490230", "不是有效的日期"),
        ("110105194900", "出生日期"),  # month 00 impossible
        ("11010520260310", "晚于今天"),
        ("110105194912310021", "校验不对"),
        ("11010519491231002X1", "只有18位"),
    ],
)
def test_partial_reports_as_soon_as_impossible(typed, hint_part):
    hint = check_partial(typed, TODAY)
    assert hint is not None and hint_part in hint


def test_mask_id():
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_id(" 11010519491231002x ") == "110105********002X"
    assert mask_id("12345") == "*****"


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张", "张"),
        ("张三", "张*"),
        ("张三明", "张*明"),
        ("欧阳小明", "欧**明"),
        ("买买提·吐尔逊", "买**·**逊"),
        ("阿依古丽·买买提·艾力", "阿***·***·*力"),
        (" 李四 ", "李*"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_age_on():
    rid = parse_id_number("11010519491231002X", TODAY)
    assert age_on(rid, date(2026, 12, 30)) == 76
    assert age_on(rid, date(2026, 12, 31)) == 77
    leap = parse_id_number(make_id("15010220000229888"), TODAY)
    assert age_on(leap, date(2025, 2, 28)) == 24
    assert age_on(leap, date(2025, 3, 1)) == 25
    assert age_on(leap, date(2028, 2, 29)) == 28
    assert age_on(date(1940, 6, 1), date(2026, 6, 1)) == 86
