"""Load a county roster from CSV or XLSX as county staff keep it (Chinese or English headers).

Good rows are loaded; each bad row is reported with its row number and what to fix, so
nothing in the file is silently dropped. Columns nobody needs here (序号…) are ignored with a
note. 住址, 电话, 联系人 and 联系人电话 are optional: they go down to the terminals for home visits.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable

from kiosk import protocol as P
from kiosk.county.texts import text

COLUMNS = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number"),
    "name": ("姓名", "name"),
    "village": ("村", "村(社区)", "村（社区）", "所属村", "村社区", "village"),
    "categories": ("认证类别", "待遇类别", "categories", "category"),
    "benefit_start": ("待遇开始日期", "领取起始日期", "开始领取日期", "benefit_start"),
    "data_comparison_on": ("大数据比对日期", "比对认证日期", "数据比对认证日期", "data_comparison_on"),
    "county_status": ("状态", "人员状态", "待遇状态", "county_status", "status"),
    # for home visits (上门认证); optional
    "address": ("住址", "家庭住址", "居住地址", "地址", "address"),
    "phone": ("电话", "联系电话", "本人电话", "手机号", "phone"),
    "contact_name": ("联系人", "联系人姓名", "contact_name", "contact"),
    "contact_phone": ("联系人电话", "联系人手机", "contact_phone"),
}
CONTACT_LIMITS = {"address": 200, "phone": 32, "contact_name": 50, "contact_phone": 32}
CATEGORY_WORDS = {
    "pension": ("养老资格认证", "养老", "养老保险", "pension"),
    "work_injury": ("工伤资格认证", "工伤", "work_injury"),
    "pension_survivor": ("养老遗属认证", "养老遗属", "pension_survivor"),
    "work_injury_survivor": ("工伤遗属认证", "工伤遗属", "work_injury_survivor"),
    "other": ("其他待遇认证", "其他", "other"),
}
STATUS_WORDS = {
    "active": ("正常", "正常发放", "active", ""),
    "suspended": ("暂停", "暂停发放", "停发", "suspended"),
    "deceased": ("死亡", "身故", "已故", "deceased"),
}


@dataclass
class RosterLoad:
    rows: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "第N行：…"
    notes: list[str] = field(default_factory=list)


def _lookup(words: dict[str, tuple[str, ...]], text: str) -> str | None:
    t = text.strip()
    for key, options in words.items():
        if t in options or t.lower() in options:
            return key
    return None


def _parse_date(value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    written = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", written) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", written)
    if not m:
        raise ValueError(text("roster_date_unreadable", value=written))
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        raise ValueError(text("roster_date_invalid", value=written)) from None


def parse_rows(header: list, rows: Iterable[list], first_row_number: int = 2, today=None) -> RosterLoad:
    """`today`: the service area's date (the hub's clock), bounding birth dates."""
    out = RosterLoad()
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        name = str(h or "").strip()
        for key, options in COLUMNS.items():
            if name in options or name.lower() in options:
                index[key] = i
                break
        else:
            if name:
                out.notes.append(text("roster_column_ignored", name=name))
    missing = [COLUMNS[k][0] for k in ("id_number", "name") if k not in index]
    if missing:
        out.errors.append(text("roster_header_missing", columns='”“'.join(missing)))
        return out
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, first_row_number):
        def cell(key, row=row):
            i = index.get(key)
            return row[i] if i is not None and i < len(row) else None
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        try:
            number = P.normalize_id(str(cell("id_number") or ""))
            if not P.valid_id_number(number, today):
                raise ValueError(text("roster_bad_id_number", number=cell('id_number') or ''))
            name = str(cell("name") or "").strip()
            if not name:
                raise ValueError(text("roster_name_empty"))
            cats = []
            for word in re.split(r"[、,，;；/ ]+", str(cell("categories") or "养老").strip()):
                if not word:
                    continue
                c = _lookup(CATEGORY_WORDS, word)
                if c is None:
                    raise ValueError(text("roster_bad_category", word=word))
                cats.append(c)
            status = _lookup(STATUS_WORDS, str(cell("county_status") or ""))
            if status is None:
                raise ValueError(text("roster_bad_status", status=cell('county_status')))
            entry = {
                "id_number": number, "name": name,
                "village": (str(cell("village")).strip() or None) if cell("village") is not None else None,
                "categories": sorted(set(cats or ["pension"])),
                "benefit_start": _parse_date(cell("benefit_start")),
                "data_comparison_on": _parse_date(cell("data_comparison_on")),
                "county_status": status,
            }
            for key, most in CONTACT_LIMITS.items():
                value = str(cell(key) or "").strip() or None
                if value and len(value) > most:
                    raise ValueError(text("roster_too_long", column=COLUMNS[key][0], most=most))
                entry[key] = value
        except ValueError as e:
            out.errors.append(text("roster_row_error", n=n, problem=e))
            continue
        if number in seen:
            out.errors.append(text("roster_duplicate", n=n, seen=seen[number]))
            continue
        seen[number] = n
        out.rows.append(entry)
    return out


def load_roster(path: Path, progress: Callable[[int, int], None] | None = None, today=None) -> RosterLoad:
    path = Path(path)
    if not path.is_file():
        return RosterLoad(errors=[text("roster_file_missing", path=path)])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # zipfile.BadZipFile, KeyError, ...
            return RosterLoad(errors=[text("roster_excel_unreadable", error_type=type(e).__name__)])
        rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
        wb.close()
    elif path.suffix.lower() in (".csv", ".txt"):
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                decoded = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            return RosterLoad(errors=[text("roster_csv_encoding")])
        rows = list(csv.reader(io.StringIO(decoded)))
    else:
        return RosterLoad(errors=[text("roster_bad_file_type", suffix=path.suffix or text("roster_no_extension"))])
    if not rows:
        return RosterLoad(errors=[text("roster_file_empty")])
    return parse_rows(rows[0], rows[1:], today=today)
