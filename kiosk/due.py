"""Due lists (提醒名单 and 公示): who in a village must certify, most urgent first.

The list itself is kiosk.visits.visit_list (the one "who must certify" query: suspended, overdue
and stopping next month, never certified, due within N days; 大数据比对 and deceased left out; the
cycle rule in force decides). This module adds what a coordinator prints and exports:

* `due_list(store, clock, rule, village=, days=, contacts=)` → DueList: the entries, counts per
  urgency, the date and the rule;
* `DueList.rows(public=)` → one plain dict per resident (the JSON, CSV and PDF all come from it);
* `write_csv(due, path, public=)` (UTF-8 with BOM: Excel opens it as Chinese);
* `write_pdf(due, path, public=)`: A4, 14 pt body in the shipped font, page numbers, village,
  date and cycle rule on every page. 提醒名单 (for the coordinator: phone, address and 联系人 where
  stored, full names when an operator is logged in; landscape when it carries contacts); 公示 (to
  post in the village) in portrait, masked names and ID numbers only, never contacts.

Masking follows the 公示 convention: kiosk.core.ids.mask_name (张*, 欧**明) and mask_id (region and
last four). Full names and contacts appear only when `contacts=True` (the caller has verified an
operator); a 公示 never carries them. Words come from kiosk.texts (codes `due_*`).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kiosk.core.clock import Clock
from kiosk.core.errors import KioskError
from kiosk.core.ids import mask_name
from kiosk.policy import BirthdayCycle, CycleRule, FixedWindow
from kiosk.texts import text
from kiosk.visits import URGENCIES, VisitEntry, visit_list

__all__ = ["URGENCIES", "DueError", "DueList", "due_list", "rule_text", "write_csv", "write_pdf"]


class DueError(KioskError):
    """A list that cannot be written (folder missing, file not writable)."""


@dataclass(frozen=True)
class DueList:
    today: date
    village: str | None
    days: int
    rule: CycleRule
    entries: list[VisitEntry]
    contacts: bool = False  # full names and phone/address/联系人 (an operator is logged in)
    counts: dict[str, int] = field(default_factory=dict)

    def rows(self, *, public: bool = False) -> list[dict]:
        """One dict per resident; keys: n, name, id, village, urgency, urgency_label, date_label,
        due_by, suspended_since, last_certified (+ phone, address, contact for a 提醒名单 with contacts)."""
        full = self.contacts and not public
        out = []
        for i, e in enumerate(self.entries, 1):
            row = {
                "n": i, "name": e.name if full else mask_name(e.name), "id": e.id_masked, "village": e.village,
                "urgency": e.urgency, "urgency_label": text(f"visit_urgency_{e.urgency}"),
                "date_label": date_label(e),
                "due_by": _iso(e.due_by), "suspended_since": _iso(e.suspended_since),
                "last_certified": _iso(e.last_certified),
            }
            if full:
                row.update(phone=e.phone, address=e.address, contact=e.contact)
            out.append(row)
        return out

    def to_json(self, *, public: bool = False) -> dict:
        return {"village": self.village, "days": self.days, "today": self.today.isoformat(),
                "rule": self.rule.to_config(), "rule_text": rule_text(self.rule), "counts": self.counts,
                "contacts": self.contacts and not public, "residents": self.rows(public=public)}


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def date_label(e: VisitEntry) -> str:
    if e.suspended_since:
        return text("visit_suspended_since", date=e.suspended_since)
    if e.due_by:
        return text("visit_due_by", date=e.due_by)
    return ""


def rule_text(rule: CycleRule) -> str:
    """The cycle rule in words, as printed under a list's title."""
    if isinstance(rule, FixedWindow):
        return text("due_rule_fixed_window", start=text("engine_month_day", m=rule.start[0], d=rule.start[1]),
                    end=text("engine_month_day", m=rule.end[0], d=rule.end[1]), grace=rule.grace_days)
    assert isinstance(rule, BirthdayCycle)
    return text("due_rule_birthday", grace=rule.grace_days)


def due_list(store, clock: Clock, rule: CycleRule, *, village: str | None = None, days: int = 30,
             contacts: bool = False) -> DueList:
    entries = visit_list(store, clock, rule, village=village, days=days)
    counts = {u: sum(1 for e in entries if e.urgency == u) for u in URGENCIES}
    return DueList(clock.today(), village, days, rule, entries, contacts, counts)


def villages(store) -> list[str]:
    """The villages on this terminal's roster, sorted."""
    return sorted({r.village for r in store.list_residents() if r.village})


# --------------------------------------------------------------------------- CSV

def _columns(due: DueList, public: bool) -> list[tuple[str, str]]:
    cols = [("n", "due_col_n"), ("name", "due_col_name"), ("id", "due_col_id"), ("village", "due_col_village"),
            ("urgency_label", "due_col_urgency"), ("date_label", "due_col_date"),
            ("last_certified", "due_col_last")]
    if due.contacts and not public:
        cols += [("phone", "due_col_phone"), ("address", "due_col_address"), ("contact", "due_col_contact")]
    return cols


def _open_for_writing(path: Path, mode: str, **kw):
    try:
        return open(path, mode, **kw)
    except OSError as e:
        raise DueError("cannot_write", text("due_cannot_write", path=path, why=e.strerror or str(e))) from e


def write_csv(due: DueList, path: Path, *, public: bool = False) -> int:
    """Write the list as CSV (UTF-8 with BOM); returns the number of residents."""
    cols = _columns(due, public)
    with _open_for_writing(Path(path), "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([text(code) for _, code in cols])
        for row in due.rows(public=public):
            w.writerow(["" if row.get(k) is None else row.get(k) for k, _ in cols])
    return len(due.entries)


# --------------------------------------------------------------------------- PDF

def _title(due: DueList, public: bool) -> str:
    place = due.village or text("due_all_villages")
    return text("due_pdf_title_public" if public else "due_pdf_title", village=place)


def _subtitle(due: DueList) -> list[str]:
    counts = text("engine_comma").join(text("due_count_of", label=text(f"visit_urgency_{u}"), n=n)
                      for u, n in due.counts.items() if n)
    return [text("due_pdf_as_of", date=due.today, days=due.days),
            text("due_pdf_rule", rule=rule_text(due.rule)),
            text("due_pdf_total", n=len(due.entries)) + (text("engine_parens", inner=counts) if counts else "")]


def write_pdf(due: DueList, path: Path, *, public: bool = False) -> int:
    """Write the 提醒名单 (or with `public` the 公示) as an A4 PDF; returns the number of pages."""
    from kiosk.pdf import ListDocument

    cols = _columns(due, public)
    if due.village:  # one village: its name is in the title, not in every row
        cols = [c for c in cols if c[0] != "village"]
    if public:
        cols = [c for c in cols if c[0] != "last_certified"]
    widths = {"n": 0.6, "name": 1.3, "id": 2.6, "village": 1.2, "urgency_label": 2.3, "date_label": 2.2,
              "last_certified": 1.6, "phone": 1.7, "address": 2.6, "contact": 1.8}
    rows = [[_cell(r, k) for k, _ in cols] for r in due.rows(public=public)]
    doc = ListDocument(
        title=_title(due, public), subtitle=_subtitle(due), landscape=len(cols) > 6,
        footer=text("due_pdf_footer_public" if public else "due_pdf_footer", date=due.today),
        page_label=lambda n, total: text("due_pdf_page", n=n, total=total),
    )
    empty = text("due_none")
    try:
        keep = tuple(i for i, (k, _) in enumerate(cols) if k in ("n", "name", "id", "village", "urgency_label", "phone", "last_certified"))
        return doc.write(Path(path), [text(code) for _, code in cols], [widths[k] for k, _ in cols], rows,
                         empty=empty, nowrap=keep)
    except OSError as e:
        raise DueError("cannot_write", text("due_cannot_write", path=path, why=e.strerror or str(e))) from e


def _cell(row: dict, key: str) -> str:
    v = row.get(key)
    if key == "last_certified":
        return v if v else text("due_never")
    return "" if v is None else str(v)
