"""The hub's due lists and figures, per village, from the county database (the hub imports only
kiosk.core and kiosk.protocol from the terminal side).

Both judge by the county's cycle rule, the one the terminals apply (kiosk.county.cycle over
kiosk.core.cycle): a resident's certifications are the hub's certified_on (the latest trusted pass
or approved fallback) and data_comparison_on, with benefit_start and the county status.

* due list: exactly the terminal's visit/due list (kiosk.visits.visit_list): suspended, overdue
  (deadline passed: suspended from next month), never certified, due within N days; 大数据比对-covered
  and deceased left out; IDs and names masked (公示 convention). Judged one resident at a time with
  kiosk.core.cycle (a village is small).
* figures: 认证率 per village (certified in the current period on the range's last day ÷ those who
  must certify, 大数据比对 and deceased left out — the terminal's kiosk.stats), counted in SQL over
  the roster; per day (passes, failures), tries per pass, failure reasons, fallbacks and review
  outcomes, time to certify — counted with kiosk.core.figures, as the terminal counts them.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from kiosk.core import figures as core
from kiosk.core.cycle import URGENCIES
from kiosk.core.ids import mask_id, mask_name

from . import cycle
from .db import FallbackReview, HubDB, Record, Resident

MAX_DAYS = 366


def due_list(hub: HubDB, village: str, days: int = 30, today: date | None = None) -> dict:
    """The village's due list by the county's cycle rule, most urgent first (masked)."""
    today = today or hub.clock.today()
    rule = cycle.hub_rule(hub)
    with hub.Session() as s:
        rows = s.execute(select(Resident.id_number, Resident.name, Resident.certified_on,
                                Resident.data_comparison_on, Resident.county_status, Resident.benefit_start)
                         .where(Resident.village == village, Resident.removed.is_(False),
                                Resident.county_status != "deceased")).all()
    out = []
    for rid, name, cert, dc, status, benefit in rows:
        j = cycle.judge(rule, rid, today, certified_on=cert, data_comparison_on=dc, benefit_start=benefit,
                        county_status=status, days=days)
        if j.urgency is None:
            continue
        when = j.status.suspended_since or j.status.due_by
        out.append({"id": mask_id(rid), "name": mask_name(name), "urgency": j.urgency,
                    "last": j.last.isoformat() if j.last else None, "date": when.isoformat() if when else None,
                    "status": j.status.kind})
    out.sort(key=lambda r: (URGENCIES.index(r["urgency"]), r["date"] or "9999", r["id"]))
    counts = {u: sum(1 for r in out if r["urgency"] == u) for u in URGENCIES}
    return {"village": village, "today": today.isoformat(), "days": days, "rule": rule.to_config(),
            "rule_words": cycle.rule_words(rule), "counts": counts, "residents": out}


def villages(hub: HubDB) -> list[str]:
    with hub.Session() as s:
        rows = s.execute(select(Resident.village).where(Resident.village.is_not(None), Resident.removed.is_(False))
                         .group_by(Resident.village).order_by(Resident.village)).all()
    return [v for (v,) in rows if v]


def figures(hub: HubDB, village: str | None = None, start: date | None = None, end: date | None = None) -> dict:
    end = end or hub.clock.today()
    start = start or end - timedelta(days=29)
    if start > end or (end - start).days + 1 > MAX_DAYS:
        raise ValueError("bad range")
    rule = cycle.hub_rule(hub)
    with hub.Session() as s:
        per_village = cycle.village_counts(s, rule, end, village)  # as the terminal's status on the last day
        rq = (select(Record.resident_id, Record.verdict, Record.occurred_day, Record.occurred_at, Record.payload)
              .where(Record.kind == "certification", Record.occurred_day >= start.isoformat(),
                     Record.occurred_day <= end.isoformat(), Record.review.is_distinct_from("rejected"))
              .order_by(Record.occurred_at))
        fq = (select(Record.payload, FallbackReview.decision)
              .outerjoin(FallbackReview, (FallbackReview.device_id == Record.device_id)
                         & (FallbackReview.uuid == Record.uuid))
              .where(Record.kind == "fallback", Record.occurred_day >= start.isoformat(),
                     Record.occurred_day <= end.isoformat()))
        if village:
            rq = rq.where(Record.village == village)
            fq = fq.where(Record.village == village)
        records = s.execute(rq).all()
        fallbacks = s.execute(fq).all()
    villages_out: list[dict] = []
    for v, n, dead, done, dcn in per_village:
        must = n - dead - dcn
        villages_out.append({"village": v, "residents": n, "must_certify": must, "certified": done,
                             "data_comparison": dcn, "deceased": dead, "rate": core.rate(done, must)})
    days: dict[str, dict] = {}
    for i in range((end - start).days + 1):
        d = (start + timedelta(days=i)).isoformat()
        days[d] = {"date": d, "attempts": 0, "passes": 0, "fails": 0}
    durations, reasons = [], []
    for _rid, verdict, day, _at, payload in records:
        row = days.get(day)
        if row is None:
            continue
        row["attempts"] += 1
        row["passes" if verdict == "pass" else "fails"] += 1
        p = _payload(payload)
        if verdict == "pass":
            secs = _seconds(p)
            if secs is not None:
                durations.append(secs)
        else:
            reasons.append(p.get("reason"))
    fb: dict[str, dict] = {m: {"method": m, "pending": 0, "approved": 0, "rejected": 0, "total": 0}
                           for m in ("staff_witness", "relative_pledge")}
    for payload, decision in fallbacks:
        m = _payload(payload).get("method")
        if m in fb:
            fb[m][decision or "pending"] += 1
            fb[m]["total"] += 1
    must = sum(v["must_certify"] for v in villages_out)
    done = sum(v["certified"] for v in villages_out)
    return {"from": start.isoformat(), "to": end.isoformat(), "village": village, "rule": rule.to_config(),
            "rule_words": cycle.rule_words(rule),
            "totals": {"must_certify": must, "certified": done, "rate": core.rate(done, must),
                       "attempts": len(records), "passes": sum(1 for r in records if r[1] == "pass")},
            "villages": villages_out, "days": list(days.values()),
            "tries_per_pass": core.tries_per_pass((r[0] or "", r[1]) for r in records),
            "failure_reasons": core.failure_reasons(reasons),
            "fallbacks": list(fb.values()), "time_to_certify": core.time_to_certify(durations)}


def _payload(text: str) -> dict:
    try:
        p = json.loads(text)
    except ValueError:
        return {}
    return p if isinstance(p, dict) else {}


def _seconds(p: dict) -> float | None:
    from datetime import datetime

    try:
        return max(0.0, (datetime.fromisoformat(p["finished_at"]) - datetime.fromisoformat(p["started_at"]))
                   .total_seconds())
    except (KeyError, TypeError, ValueError):
        return None
