"""Certification without a face (工作人员核实认证 / 亲属承诺), as the terminal keeps it.

A fallback is recorded `pending_county_review`: it is never a face pass and does not change
the resident's status here. Only the county's decision does (`decide`): approved, the
resident counts as certified on the fallback's date; rejected, the reason is kept for staff.

The resident's ID is kept as in `attempts` (blind reference + sealed copy); the relative's
name, full ID number and phone are sealed together, only their masked ID stays in the clear.
"""
from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, datetime

from ..core.ids import mask_id, normalize
from ..policy import Category
from . import crypto

METHODS = ("staff_witness", "relative_pledge")
REASONS = ("attempts_exceeded", "cannot_perform_actions", "refuses_face_recognition", "no_template_cannot_enrol")
STATUSES = ("pending_county_review", "approved", "rejected")


@dataclass(frozen=True)
class Relative:
    """The relative who pledges (亲属承诺): all four are required."""

    name: str
    relation: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class Fallback:
    uuid: str
    resident_id: str
    category: str
    method: str
    reason: str
    detail: str | None
    operator: str
    device_id: str | None
    relation: str | None
    relative_id_masked: str | None
    created_at: str
    status: str
    decided_at: str | None
    decided_by: str | None
    decision_reason: str | None

    def local_date(self, store) -> date:
        """The service area's date of the fallback (an approved one certifies on this date)."""
        return store.clock.local_date(self.created_at)

    def to_json(self) -> dict:
        """What may leave this module for screens and the CLI: the resident's ID masked."""
        return {"uuid": self.uuid, "resident": mask_id(self.resident_id), "category": self.category,
                "method": self.method, "reason": self.reason, "detail": self.detail, "operator": self.operator,
                "relation": self.relation, "relative_id": self.relative_id_masked, "created_at": self.created_at,
                "status": self.status, "decided_at": self.decided_at, "decision_reason": self.decision_reason}


def record(store, *, resident_id: str, category: Category | str, method: str, reason: str, operator: str,
           detail: str | None = None, relative: Relative | None = None, device_id: str | None = None,
           at: datetime | None = None) -> Fallback:
    """Write the fallback and its audit row in one transaction; returns it (pending county review)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "relative_pledge" and relative is None:
        raise ValueError("a relative's pledge needs the relative")
    if not operator:
        raise ValueError("a fallback needs its witness operator")
    rid = normalize(resident_id)
    uuid = str(uuidlib.uuid4())
    row: dict = {"uuid": uuid, "resident_id": store._ref(rid), "category": Category.parse(category).value,
                 "method": method, "reason": reason, "detail": detail or None, "operator": operator,
                 "device_id": device_id, "created_at": store._iso(at), "status": "pending_county_review"}
    row["resident_nonce"], row["resident_ct"] = crypto.seal_text(store._personal_key, rid, f"fallback|{uuid}")
    if relative is not None:
        row["relation"] = relative.relation
        row["relative_id_masked"] = mask_id(relative.id_number)
        row["relative_nonce"], row["relative_ct"] = crypto.seal_text(
            store._personal_key, json.dumps({"name": relative.name, "id_number": normalize(relative.id_number),
                                             "phone": relative.phone}, ensure_ascii=False), f"relative|{uuid}")
    # What the county reviews (protocol FallbackPayload): the resident's and the relative's full
    # details while it waits to be sent; masked in the outbox once acknowledged (db.MASK_ACKED_PAYLOAD).
    payload = {"uuid": uuid, "resident_id": rid, "category": row["category"], "method": method, "reason": reason,
               "detail": row["detail"], "operator": operator, "device_id": device_id, "created_at": row["created_at"]}
    if relative is not None:
        payload.update(relation=relative.relation, relative_name=relative.name,
                       relative_id=normalize(relative.id_number), relative_phone=relative.phone)
    with store.db.atomic():
        store.db.table("fallbacks").insert(row)
        store.db.table("outbox").insert({"uuid": uuid, "kind": "fallback", "payload": json.dumps(payload, ensure_ascii=False),
                                         "created_at": row["created_at"], "tries": 0})
        store._audit_row(operator, "fallback_recorded",
                         {"fallback": uuid, "resident": mask_id(rid), "method": method, "reason": reason}, None)
    return get(store, uuid)  # type: ignore[return-value]


def get(store, uuid: str) -> Fallback | None:
    rows = list(store.db.query("SELECT * FROM fallbacks WHERE uuid = ?", [uuid]))
    return _fallback(store, rows[0]) if rows else None


def for_resident(store, resident_id: str) -> list[Fallback]:
    """A resident's fallbacks, newest first."""
    rows = store.db.query("SELECT * FROM fallbacks WHERE resident_id = ? ORDER BY created_at DESC, rowid DESC",
                          [store._ref(resident_id)])
    return [_fallback(store, r) for r in rows]


def pending(store, resident_id: str) -> Fallback | None:
    """The resident's fallback still waiting for the county, if any."""
    return next((f for f in for_resident(store, resident_id) if f.status == "pending_county_review"), None)


def last_approved(store, resident_id: str) -> date | None:
    """The local date of the latest fallback the county approved (it certifies on that date)."""
    dates = [f.local_date(store) for f in for_resident(store, resident_id) if f.status == "approved"]
    return max(dates, default=None)


def relative_of(store, uuid: str) -> Relative | None:
    """The relative's full details (for the county only: the record it reviews)."""
    rows = list(store.db.query("SELECT uuid, relation, relative_nonce, relative_ct FROM fallbacks WHERE uuid = ?",
                               [uuid]))
    if not rows or rows[0]["relative_nonce"] is None:
        return None
    r = rows[0]
    d = json.loads(crypto.open_text(store._personal_key, r["relative_nonce"], r["relative_ct"], f"relative|{uuid}"))
    return Relative(d["name"], r["relation"], d["id_number"], d["phone"])


def decide(store, uuid: str, status: str, *, by: str | None = None, reason: str | None = None,
           at: datetime | None = None) -> bool:
    """Apply the county's decision (approved | rejected) once; False if unknown or already decided."""
    if status not in ("approved", "rejected"):
        raise ValueError(f"status must be approved or rejected, got {status!r}")
    with store.db.atomic():
        cur = store.db.execute(
            "UPDATE fallbacks SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ?"
            " WHERE uuid = ? AND status = 'pending_county_review'", [status, store._iso(at), by, reason, uuid])
        if cur.rowcount != 1:
            return False
        store._audit_row("county", f"fallback_{status}", {"fallback": uuid, "by": by, "reason": reason}, None)
    return True


def _fallback(store, r: dict) -> Fallback:
    r = dict(r)
    nonce, ct = r.pop("resident_nonce", None), r.pop("resident_ct", None)
    r.pop("relative_nonce", None), r.pop("relative_ct", None)
    if nonce is not None:
        r["resident_id"] = crypto.open_text(store._personal_key, nonce, ct, f"fallback|{r['uuid']}")
    return Fallback(**r)
