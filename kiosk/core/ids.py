"""Resident identity, defined once: 18-digit ID numbers (GB 11643-1999), masking, age.

Shared by the terminal, the sync protocol and the county hub (stdlib only). Errors carry a
stable English `code` for logs and tests, their data, and a plain Chinese `message` from the
shared catalogue (kiosk.core.messages, `id_*`) that tells the person at the keypad what to do next.

"Today" (for "born in the future") is always passed in by the caller from its clock
(kiosk.core.clock): this module never reads the machine's date.
"""
from __future__ import annotations

import calendar
import unicodedata
from dataclasses import dataclass
from datetime import date

from kiosk.core.errors import KioskError
from kiosk.core.messages import message

ID_LENGTH = 18
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")
_REGION_FIRST = frozenset("12345678")
_EARLIEST_BIRTH = date(1900, 1, 1)
# Separators used in transliterated minority names (买买提·吐尔逊); all are kept when masking.
_NAME_DOTS = frozenset("·•‧・．.")
# ResidentId.sex: stored values, not words (the store's residents table CHECKs exactly these two).
SEX_MALE, SEX_FEMALE = "男", "女"



class InvalidIdNumber(KioskError, ValueError):
    """The text is not a valid resident ID number: `code` (length, characters, region, birth_date,
    check_digit), `data`; the words are the shared catalogue's `id_<why>` (`why` defaults to `code`)."""

    def __init__(self, code: str, why: str | None = None, **data: object):
        self.data = data
        words = message(f"id_{why or code}", **data)
        KioskError.__init__(self, code, words)
        self.args = (f"{code}: {words}",)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class ResidentId:
    number: str  # 18 chars, upper-case X
    region: str  # first 6 digits (administrative division at registration)
    birth_date: date
    sex: str  # SEX_MALE or SEX_FEMALE

    @property
    def masked(self) -> str:
        return mask_id(self.number)


def normalize(text: str) -> str:
    """Full-width digits and spaces (from Chinese input methods) become ASCII; x becomes X."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError("check_digit needs exactly 17 digits")
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def _today(today: date | None) -> date:
    if today is None:  # callers pass their clock's date; this fallback is the service area's
        from kiosk.core.clock import default_clock

        return default_clock().today()
    return today


def parse_id_number(text: str, today: date | None = None) -> ResidentId:
    """Validate and decode an ID number; raise InvalidIdNumber saying what is wrong.

    `today` (the service area's date, from the caller's clock) bounds the birth date."""
    today = _today(today)
    number = normalize(text)
    if len(number) != ID_LENGTH:
        raise InvalidIdNumber("length", n=len(number))
    if "X" in number[:17]:
        raise InvalidIdNumber("characters", "x_position")
    if not set(number[:17]) <= _DIGITS or number[17] not in _DIGITS | {"X"}:
        raise InvalidIdNumber("characters")
    if number[0] not in _REGION_FIRST:
        raise InvalidIdNumber("region")
    birth = _birth_date(number[6:14], today)
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber("check_digit")
    sex = SEX_MALE if int(number[16]) % 2 == 1 else SEX_FEMALE
    return ResidentId(number=number, region=number[:6], birth_date=birth, sex=sex)


def _birth_date(digits: str, today: date) -> date:
    y, m, d = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    try:
        birth = date(y, m, d)
    except ValueError:
        raise InvalidIdNumber("birth_date", "birth_date_invalid", digits=digits) from None
    if birth > today:
        raise InvalidIdNumber("birth_date", "birth_date_future")
    if birth < _EARLIEST_BIRTH:
        raise InvalidIdNumber("birth_date", "birth_date_too_early")
    return birth


def check_partial(text: str, today: date | None = None) -> str | None:
    """Live check while typing: None while the prefix can still be valid, else a hint."""
    today = _today(today)
    typed = normalize(text)
    if len(typed) > ID_LENGTH:
        return message("id_too_long", n=len(typed))
    for i, c in enumerate(typed):
        if c == "X" and i != ID_LENGTH - 1:
            return message("id_x_position")
        if c not in _DIGITS and c != "X":
            return message("id_characters")
    if typed and typed[0] not in _REGION_FIRST:
        return message("id_region")
    date_part = typed[6:14]
    if date_part and not _date_prefix_possible(date_part, today):
        if len(date_part) == 8:
            try:
                _birth_date(date_part, today)
            except InvalidIdNumber as e:
                return e.message
        return message("id_birth_date_prefix")
    if len(typed) == ID_LENGTH:
        try:
            parse_id_number(typed, today)
        except InvalidIdNumber as e:
            return e.message
    return None


def _date_prefix_possible(prefix: str, today: date) -> bool:
    """Can some date in [1900-01-01, today] be written as YYYYMMDD starting with prefix?"""
    y_pre, m_pre, d_pre = prefix[:4], prefix[4:6], prefix[6:8]
    for y in range(_EARLIEST_BIRTH.year, today.year + 1):
        if not f"{y:04d}".startswith(y_pre):
            continue
        if len(prefix) <= 4:
            return True
        for m in range(1, 13):
            if not f"{m:02d}".startswith(m_pre) or date(y, m, 1) > today:
                continue
            if len(prefix) <= 6:
                return True
            for d in range(1, calendar.monthrange(y, m)[1] + 1):
                if f"{d:02d}".startswith(d_pre) and date(y, m, d) <= today:
                    return True
    return False


def normalize_id(text: str) -> str:
    """`normalize`, and spaces inside dropped too (a roster cell like "110105 19491231 002X")."""
    return "".join(normalize(str(text)).split())


def valid_id_number(number: str, today: date | None = None) -> bool:
    """The full check (shape, region, birth date, check digit) as a yes/no."""
    try:
        parse_id_number(number, today)
    except InvalidIdNumber:
        return False
    return True


def birth_date(number: str) -> date:
    """The birth date written in a (valid) ID number."""
    digits = normalize(number)[6:14]
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def mask_id(number: str) -> str:
    """Keep the region (first 6) and the last 4; hide the birth date."""
    s = normalize(number)
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳小明 -> 欧**明, 买买提·吐尔逊 -> 买**·**逊."""
    s = name.strip()
    if len(s) <= 1:
        return s
    if len(s) == 2:
        return s[0] + "*"
    middle = "".join(c if c in _NAME_DOTS else "*" for c in s[1:-1])
    masked = s[0] + middle + s[-1]
    if "*" not in masked:  # e.g. "A·B": nothing was hidden, so hide the last part
        masked = masked[:-1] + "*"
    return masked


def age_on(resident: ResidentId | date, day: date) -> int:
    """Full years (周岁) on `day`; a 29 February birthday counts from 1 March in common years."""
    birth = resident.birth_date if isinstance(resident, ResidentId) else resident
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
