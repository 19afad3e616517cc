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
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        raise ValueError(f"日期“{text}”看不懂，请写成 2024-03-01 这样")
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        raise ValueError(f"日期“{text}”不存在，请核对年月日") from None


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
                out.notes.append(f"已忽略不需要的列“{name}”。")
    missing = [COLUMNS[k][0] for k in ("id_number", "name") if k not in index]
    if missing:
        out.errors.append(f"表头缺少“{'”“'.join(missing)}”列，整个文件没有导入。请把第一行改成：身份证号,姓名,村,认证类别,待遇开始日期,大数据比对日期,状态（可再加：住址,电话,联系人,联系人电话）")
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
                raise ValueError(f"身份证号码“{cell('id_number') or ''}”无效（位数、出生日期或校验位不对），请核对")
            name = str(cell("name") or "").strip()
            if not name:
                raise ValueError("姓名为空，请补上")
            cats = []
            for word in re.split(r"[、,，;；/ ]+", str(cell("categories") or "养老").strip()):
                if not word:
                    continue
                c = _lookup(CATEGORY_WORDS, word)
                if c is None:
                    raise ValueError(f"认证类别“{word}”不认识，可填：养老、工伤、养老遗属、工伤遗属、其他")
                cats.append(c)
            status = _lookup(STATUS_WORDS, str(cell("county_status") or ""))
            if status is None:
                raise ValueError(f"状态“{cell('county_status')}”不认识，可填：正常、暂停、死亡")
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
                    raise ValueError(f"{COLUMNS[key][0]}太长（最多 {most} 个字），请删短")
                entry[key] = value
        except ValueError as e:
            out.errors.append(f"第{n}行：{e}。")
            continue
        if number in seen:
            out.errors.append(f"第{n}行：身份证号与第{seen[number]}行重复，只导入了第{seen[number]}行。")
            continue
        seen[number] = n
        out.rows.append(entry)
    return out


def load_roster(path: Path, progress: Callable[[int, int], None] | None = None, today=None) -> RosterLoad:
    path = Path(path)
    if not path.is_file():
        return RosterLoad(errors=[f"找不到名册文件：{path}"])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # zipfile.BadZipFile, KeyError, ...
            return RosterLoad(errors=[f"Excel 文件打不开（{type(e).__name__}），请用 Excel 另存为 .xlsx 后再导入。"])
        rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
        wb.close()
    elif path.suffix.lower() in (".csv", ".txt"):
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            return RosterLoad(errors=["CSV 文件的编码看不懂，请用 Excel 另存为“CSV UTF-8”后再导入。"])
        rows = list(csv.reader(io.StringIO(text)))
    else:
        return RosterLoad(errors=[f"只能导入 .csv 或 .xlsx 名册，这个文件是 {path.suffix or '无扩展名'}。"])
    if not rows:
        return RosterLoad(errors=["名册文件是空的。"])
    return parse_rows(rows[0], rows[1:], today=today)
