"""Home visits (上门认证) and due lists: who a 协理员 should go and see, most urgent first.

`visit_list` is the one query for "who must certify": the visit list of issue 12 and the due
lists of issue 13 (`kiosk due`, printed 提醒名单) both use it. It reads the store and asks
kiosk.policy.certification_status for each resident — the cycle rules live in kiosk.core.cycle only
(the county hub judges with the same module).

Codes only (no words, no Qt): urgency and outcome labels are `visit_urgency_<code>` and
`visit_outcome_<code>` in kiosk.texts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.core.clock import Clock
from kiosk.core.ids import mask_id
from kiosk.core.cycle import URGENCIES, urgency
from kiosk.policy import CycleRule, certification_status
from kiosk.store.db import VISIT_OUTCOMES

# URGENCIES (most urgent first) and `urgency` are the shared rule's (kiosk.core.cycle): the county
# hub's due list sorts people with the same function.
__all__ = ["URGENCIES", "VISIT_OUTCOMES", "VisitEntry", "urgency", "visit_list"]


@dataclass(frozen=True)
class VisitEntry:
    id_number: str  # full, for the staff member's next command; shown as `id_masked`
    id_masked: str
    name: str
    village: str | None
    urgency: str  # one of URGENCIES
    status: str  # the policy's Status.kind
    due_by: date | None
    suspended_since: date | None
    last_certified: date | None
    address: str | None = None
    phone: str | None = None
    contact: str | None = None  # 联系人
    last_visit: dict | None = None  # {at (local date), outcome, operator, note}

    def to_json(self, *, full_id: bool = False) -> dict:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "id": self.id_number if full_id else self.id_masked, "name": self.name, "village": self.village,
            "urgency": self.urgency, "status": self.status, "due_by": iso(self.due_by),
            "suspended_since": iso(self.suspended_since), "last_certified": iso(self.last_certified),
            "address": self.address, "phone": self.phone, "contact": self.contact, "last_visit": self.last_visit,
        }


def visit_list(store, clock: Clock, cycle_rule: CycleRule, *, village: str | None = None,
               days: int = 30) -> list[VisitEntry]:
    """Residents to visit (of `village`, or all on this terminal), most urgent first. Works
    from the local store only: offline for days it still judges by the clock's today."""
    if days < 0:
        raise ValueError("days must not be negative")
    today = clock.today()
    out = []
    for r in store.list_residents(village=village):
        last = store.last_certified(r.id_number)
        county_suspended = r.county_status == "suspended"
        st = certification_status(cycle_rule, r.birth_date, today, last_certified=last,
                                  data_comparison_on=r.data_comparison_on, benefit_start=r.benefit_start,
                                  suspended=county_suspended, deceased=r.county_status == "deceased")
        never = last is None and r.data_comparison_on is None
        kind = urgency(st, today, days, never_certified=never, county_suspended=county_suspended)
        if kind is None:
            continue
        contact = store.resident_contact(r.id_number)
        visit = store.last_visit(r.id_number)
        if visit is not None:
            visit = {"at": clock.local_date(visit["at"]).isoformat(), "outcome": visit["outcome"],
                     "operator": visit["operator"], "note": visit["note"]}
        out.append(VisitEntry(
            id_number=r.id_number, id_masked=mask_id(r.id_number), name=r.name, village=r.village,
            urgency=kind, status=st.kind, due_by=st.due_by, suspended_since=st.suspended_since,
            last_certified=last, address=contact.get("address"), phone=contact.get("phone"),
            contact=contact.get("contact"), last_visit=visit,
        ))
    out.sort(key=lambda e: (URGENCIES.index(e.urgency), e.due_by or date.max, e.village or "", e.name,
                            e.id_number))
    return out
