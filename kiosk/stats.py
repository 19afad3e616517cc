"""The numbers that matter to a village coordinator and the county (`kiosk stats`, the staff app's
统计 screen): from the terminal's own store, over a date range (service-area days).

* completion rate (认证率) per village: certified this cycle ÷ those who must certify (大数据比对 and
  deceased left out, as counties count it), by the cycle rule in force, on the range's last day;
* per day: tries, passes, failures, residents certified by the end of the day and the rate then;
* tries per pass: how many face checks each pass took (since the resident's previous pass);
* failure reasons (the session's verdict codes, grouped as staff name them);
* fallbacks (certification without a face) by method and the county's review outcome;
* time to certify: seconds from the start of the passing check to its verdict.

`figures(store, clock, rule, village=, start=, end=)` → Figures (plain data, `to_json()`);
`write_csv` / `write_xlsx` for the county's spreadsheets. Codes and numbers only; labels come
from kiosk.texts (`stats_*`). Charts are kiosk.charts.
"""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from kiosk.core import figures as core
from kiosk.core.clock import Clock
from kiosk.core.errors import KioskError
from kiosk.core.figures import reason_group
from kiosk.policy import CycleRule, certification_status
from kiosk.texts import has, text

__all__ = ["MAX_DAYS", "Figures", "StatsError", "figures", "reason_group", "write_csv", "write_xlsx"]

MAX_DAYS = 366  # one range at most a year of days


class StatsError(KioskError):
    """A range or file a person got wrong."""


@dataclass
class Figures:
    start: date
    end: date
    village: str | None
    villages: list[dict] = field(default_factory=list)
    days: list[dict] = field(default_factory=list)
    tries_per_pass: dict = field(default_factory=dict)
    failure_reasons: list[dict] = field(default_factory=list)
    fallbacks: list[dict] = field(default_factory=list)
    time_to_certify: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "village": self.village,
                "totals": self.totals, "villages": self.villages, "days": self.days,
                "tries_per_pass": self.tries_per_pass, "failure_reasons": self.failure_reasons,
                "fallbacks": self.fallbacks, "time_to_certify": self.time_to_certify}


_rate = core.rate


def _local(clock: Clock, iso: str) -> date:
    return clock.local_date(iso)


def figures(store, clock: Clock, rule: CycleRule, *, village: str | None = None, start: date | None = None,
            end: date | None = None) -> Figures:
    """The figures for `village` (or all of this terminal's villages) from `start` to `end`
    (service-area days, both included; default: the 30 days up to today)."""
    end = end or clock.today()
    start = start or end - timedelta(days=29)
    if start > end:
        raise StatsError("bad_range", text("stats_bad_range", start=start, end=end))
    if (end - start).days + 1 > MAX_DAYS:
        raise StatsError("bad_range", text("stats_range_too_long", n=MAX_DAYS))
    residents = store.list_residents(village=village)
    by_ref = {store._ref(r.id_number): r for r in residents}

    # Every pass date per resident (any date: a pass before the range still counts for its cycle),
    # the county's word on certifications elsewhere, and approved fallbacks.
    passes: dict[str, list[date]] = defaultdict(list)
    for row in store.db.query("SELECT resident_id, finished_at FROM attempts WHERE verdict = 'pass'"):
        if row["resident_id"] in by_ref:
            passes[row["resident_id"]].append(_local(clock, row["finished_at"]))
    if store.db["fallbacks"].exists():
        for row in store.db.query("SELECT resident_id, created_at FROM fallbacks WHERE status = 'approved'"):
            if row["resident_id"] in by_ref:
                passes[row["resident_id"]].append(_local(clock, row["created_at"]))
    if store.db["county_roster"].exists():
        for row in store.db.query("SELECT resident_id, certified_on FROM county_roster WHERE certified_on IS NOT NULL"):
            if row["resident_id"] in by_ref:
                passes[row["resident_id"]].append(date.fromisoformat(row["certified_on"]))

    def status_on(ref: str, day: date):
        r = by_ref[ref]
        last = max((d for d in passes.get(ref, ()) if d <= day), default=None)
        return certification_status(rule, r.birth_date, day, last_certified=last,
                                    data_comparison_on=r.data_comparison_on, benefit_start=r.benefit_start,
                                    suspended=r.county_status == "suspended",
                                    deceased=r.county_status == "deceased")

    out = Figures(start, end, village)

    # --- per village, on the last day
    per_village: dict[str, Counter] = defaultdict(Counter)
    for ref, r in by_ref.items():
        kind = status_on(ref, end).kind
        c = per_village[r.village or ""]
        c["residents"] += 1
        if kind in ("deceased", "data_comparison"):
            c[kind] += 1
            continue
        c["must_certify"] += 1
        c["certified"] += kind == "certified"
        c["overdue"] += kind == "overdue"
    for name in sorted(per_village):
        c = per_village[name]
        out.villages.append({"village": name or None, "residents": c["residents"], "must_certify": c["must_certify"],
                             "certified": c["certified"], "data_comparison": c["data_comparison"],
                             "deceased": c["deceased"], "overdue": c["overdue"],
                             "rate": _rate(c["certified"], c["must_certify"])})

    # --- attempts in the range (a day's margin in SQL, the exact local days in Python)
    lo = clock.start_of(start) - timedelta(days=1)
    hi = clock.start_of(end + timedelta(days=2))
    attempts = [dict(r) for r in store.db.query(
        "SELECT resident_id, started_at, finished_at, verdict, reason FROM attempts"
        " WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
        [store._iso(lo), store._iso(hi)])]
    attempts = [a for a in attempts if a["resident_id"] in by_ref and start <= _local(clock, a["started_at"]) <= end]

    per_day: dict[date, Counter] = defaultdict(Counter)
    for a in attempts:
        d = _local(clock, a["started_at"])
        per_day[d]["attempts"] += 1
        per_day[d]["passes" if a["verdict"] == "pass" else "fails"] += 1
    n_days = (end - start).days + 1
    for i in range(n_days):
        d = start + timedelta(days=i)
        kinds = [status_on(ref, d).kind for ref in by_ref]
        must = sum(1 for k in kinds if k not in ("deceased", "data_comparison"))
        done = sum(1 for k in kinds if k == "certified")
        c = per_day[d]
        out.days.append({"date": d.isoformat(), "attempts": c["attempts"], "passes": c["passes"],
                         "fails": c["fails"], "certified": done, "must_certify": must, "rate": _rate(done, must)})

    # --- tries per pass, failure reasons, time to certify (counted as the hub counts them)
    out.tries_per_pass = core.tries_per_pass((a["resident_id"], a["verdict"]) for a in attempts)
    out.failure_reasons = [{**r, "label": text(f"stats_reason_{r['reason']}")}
                           for r in core.failure_reasons(a["reason"] for a in attempts if a["verdict"] == "fail")]
    out.time_to_certify = core.time_to_certify([
        max(0.0, (datetime.fromisoformat(a["finished_at"]) - datetime.fromisoformat(a["started_at"])).total_seconds())
        for a in attempts if a["verdict"] == "pass"])

    # --- fallbacks by method and review outcome
    if store.db["fallbacks"].exists():
        fb: dict[str, Counter] = defaultdict(Counter)
        for row in store.db.query("SELECT resident_id, method, status, created_at FROM fallbacks"):
            if row["resident_id"] in by_ref and start <= _local(clock, row["created_at"]) <= end:
                fb[row["method"]][row["status"]] += 1
        for method in ("staff_witness", "relative_pledge"):
            c = fb.get(method, Counter())
            out.fallbacks.append({"method": method, "label": text(f"fallback_method_{method}"),
                                  "pending": c["pending_county_review"], "approved": c["approved"],
                                  "rejected": c["rejected"], "total": sum(c.values())})

    must = sum(v["must_certify"] for v in out.villages)
    done = sum(v["certified"] for v in out.villages)
    out.totals = {"residents": len(by_ref), "must_certify": must, "certified": done, "rate": _rate(done, must),
                  "attempts": len(attempts), "passes": sum(1 for a in attempts if a["verdict"] == "pass"),
                  "fails": sum(1 for a in attempts if a["verdict"] == "fail"),
                  "fallbacks": sum(f["total"] for f in out.fallbacks)}
    return out


# --------------------------------------------------------------------------- tables

def tables(f: Figures) -> list[tuple[str, list[str], list[list]]]:
    """The figures as (sheet title, header, rows): one table each, for CSV and XLSX."""
    def pct(x):
        return None if x is None else round(100 * x, 1)

    t = [
        (text("stats_sheet_villages"),
         [text(c) for c in ("stats_col_village", "stats_col_residents", "stats_col_must", "stats_col_certified",
                            "stats_col_rate", "stats_col_overdue", "stats_col_dc", "stats_col_deceased")],
         [[v["village"] or "", v["residents"], v["must_certify"], v["certified"], pct(v["rate"]), v["overdue"],
           v["data_comparison"], v["deceased"]] for v in f.villages]),
        (text("stats_sheet_days"),
         [text(c) for c in ("stats_col_date", "stats_col_attempts", "stats_col_passes", "stats_col_fails",
                            "stats_col_certified", "stats_col_must", "stats_col_rate")],
         [[d["date"], d["attempts"], d["passes"], d["fails"], d["certified"], d["must_certify"], pct(d["rate"])]
          for d in f.days]),
        (text("stats_sheet_tries"), [text("stats_col_tries"), text("stats_col_passes")],
         [[text(f"stats_tries_{b}"), n] for b, n in f.tries_per_pass["buckets"].items()]),
        (text("stats_sheet_reasons"), [text("stats_col_reason"), text("stats_col_count")],
         [[r["label"], r["count"]] for r in f.failure_reasons]),
        (text("stats_sheet_fallbacks"),
         [text(c) for c in ("stats_col_method", "stats_col_pending", "stats_col_approved", "stats_col_rejected")],
         [[x["label"], x["pending"], x["approved"], x["rejected"]] for x in f.fallbacks]),
        (text("stats_sheet_duration"), [text("stats_col_duration"), text("stats_col_passes")],
         [[text(f"stats_dur_{k}"), n] for k, n in f.time_to_certify["buckets"].items()]),
    ]
    return t


def _write_error(path: Path, e: OSError) -> StatsError:
    return StatsError("cannot_write", text("stats_cannot_write", path=path, why=e.strerror or str(e)))


def write_csv(f: Figures, path: Path) -> None:
    """All tables in one CSV (UTF-8 with BOM), each under its title line, a blank line between."""
    try:
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([text("stats_title", village=f.village or text("due_all_villages")),
                        f"{f.start.isoformat()} ~ {f.end.isoformat()}"])
            for title, header, rows in tables(f):
                w.writerow([])
                w.writerow([title])
                w.writerow(header)
                w.writerows(["" if c is None else c for c in r] for r in rows)
    except OSError as e:
        raise _write_error(path, e) from e


def write_xlsx(f: Figures, path: Path) -> None:
    """One sheet per table (openpyxl), header row bold and frozen, columns sized to the text."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, header, rows in tables(f):
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for c in ws[1]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append(r)
        ws.freeze_panes = "A2"
        for i, col in enumerate(ws.columns, 1):
            width = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(c.value or "")) for c in col)
            ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = min(40, width + 2)
    wb.properties.title = text("stats_title", village=f.village or text("due_all_villages"))
    try:
        wb.save(path)
    except OSError as e:
        raise _write_error(path, e) from e


def label(code: str) -> str:
    """A reason group's label (used by charts)."""
    return text(f"stats_reason_{code}") if has(f"stats_reason_{code}") else code
