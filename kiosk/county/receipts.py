"""Checking a resident's receipt (认证回执) at the county: `kiosk-county receipt verify CODE` and the
staff page /receipt.

The code's tag is checked with the key the hub shares with the terminal that issued it (the hub's
X25519 key with the device's registered box key); a QR text also has its Ed25519 signature checked
with the device's registered signing key. Then the record is looked up: a face pass by its attempt
UUID (inside the certification record), a certification without a face by its UUID.

Results: genuine (and the record as received), genuine_not_received (the terminal has not sent it
yet: USB bundle or the next sync), not_genuine (unknown device, wrong tag or signature, or a record
that does not say what the receipt says).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select

from kiosk import protocol as P
from kiosk.core.ids import mask_id, mask_name

from .db import Device, FallbackReview, HubDB, Record, Resident
from kiosk.county.texts import text

RESULT_WORDS = {
    "genuine": text("receipts_result_genuine"),
    "genuine_not_received": text("receipts_result_genuine_not_received"),
    "not_genuine": text("receipts_result_not_genuine"),
}
REASONS = {
    "unknown_device": text("receipts_reasons_unknown_device"),
    "bad_tag": text("receipts_reasons_bad_tag"),
    "bad_signature": text("receipts_reasons_bad_signature"),
    "record_mismatch": text("receipts_reasons_record_mismatch"),
}
METHOD_WORDS = {"face": text("receipts_method_face"), "staff_witness": text("word_staff_witness"), "relative_pledge": text("receipts_method_relative_pledge")}
STATUS_WORDS = {"pass": text("receipts_status_pass"), "pending": text("receipts_status_pending"), "approved": text("receipts_status_approved"), "rejected": text("receipts_status_rejected")}


@dataclass
class ReceiptCheck:
    result: str  # genuine | genuine_not_received | not_genuine
    reason: str = ""
    code: P.ReceiptCode | None = None
    device: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        words = RESULT_WORDS[self.result]
        return words + (REASONS.get(self.reason, "") if self.result == "not_genuine" else "")

    def to_json(self) -> dict:
        c = self.code
        return {"result": self.result, "reason": self.reason or None, "message": self.message,
                "device_id": c.device_id if c else None, "date": c.day.isoformat() if c else None,
                "method": c.method if c else None, "device": self.device, "record": self.record}

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) for people: the page and the command."""
        out = [(text("word_result"), self.message)]
        if self.code:
            out += [(text("receipts_label_device"), f"{self.code.device_id} {self.device.get('name', '')} {self.device.get('village') or ''}".strip()),
                    (text("word_date"), self.code.day.isoformat()), (text("word_method"), METHOD_WORDS[self.code.method])]
        if self.device.get("status") == "revoked":
            out.append((text("receipts_label_note"), text("receipts_device_revoked")))
        if self.record:
            out += [(text("word_name"), self.record.get("name") or "—"), (text("word_id_number"), self.record["resident"]), (text("receipts_label_status"), STATUS_WORDS.get(self.record["status"], ""))]
            if self.record.get("clock_suspect"):
                out.append((text("receipts_label_note"), text("receipts_clock_suspect")))
        return out


def verify(hub: HubDB, code_text: str) -> ReceiptCheck:
    """Raises P.ProtocolError (receipt_malformed) for text that is not a receipt code at all."""
    code, uuid, sig = P.receipt_parse(code_text)
    with hub.Session() as s:
        dev = s.get(Device, code.device_id)
        if dev is None:
            return ReceiptCheck("not_genuine", "unknown_device", code)
        device = {"name": dev.name, "village": dev.village, "status": dev.status}
        shared = hub.keys.box.exchange(P.box_public_from(dev.box_pub))
        if not P.receipt_check(P.receipt_tag_key(shared, dev.id), code):
            return ReceiptCheck("not_genuine", "bad_tag", code, device)
        if uuid is not None and sig is not None and not P.verify_signature(
                P.verify_key_from(dev.sign_pub), sig, P.receipt_sign_message(code, uuid)):
            return ReceiptCheck("not_genuine", "bad_signature", code, device)
        found = _record(s, code, uuid)
        person = s.get(Resident, found[0].resident_id) if found is not None and found[0].resident_id else None
        name = mask_name(person.name) if person is not None else ""
    if found is None:
        return ReceiptCheck("genuine_not_received", "", code, device)
    rec, review = found
    payload = json.loads(rec.payload)
    day = rec.occurred_day
    if code.method == "face":
        status = "pass" if rec.verdict == "pass" else None
    else:
        status = review.decision if review is not None and getattr(review, "decision", None) else "pending"
        if payload.get("method") != code.method:
            status = None
    if status is None or day != code.day.isoformat():
        return ReceiptCheck("not_genuine", "record_mismatch", code, device)
    record = {"uuid": payload.get("uuid", rec.uuid), "resident": mask_id(rec.resident_id) if rec.resident_id else "",
              "name": name,
              "village": rec.village, "status": status, "received_at": rec.received_at,
              "clock_suspect": bool(rec.clock_suspect) and rec.review != "confirmed"}
    return ReceiptCheck("genuine", "", code, device, record)


def _record(s, code: P.ReceiptCode, uuid: str | None):
    """The record the code names: (Record, FallbackReview | None), or None if not received."""
    q = select(Record).where(Record.device_id == code.device_id)
    if code.method == "face":
        # A certification record's own uuid is its outbox message's; the attempt's is inside.
        q = q.where(Record.kind == "certification").where(Record.payload.like(f'%"uuid": "{code.ref}%'))
        rows = [r for r in s.scalars(q) if uuid is None or json.loads(r.payload).get("uuid") == uuid]
        rows = [r for r in rows if str(json.loads(r.payload).get("uuid", "")).startswith(code.ref)]
        return (rows[0], None) if rows else None
    q = q.where(Record.kind == "fallback").where(Record.uuid.like(f"{code.ref}%"))
    rows = [r for r in s.scalars(q) if uuid is None or r.uuid == uuid]
    if not rows:
        return None
    return rows[0], s.get(FallbackReview, (rows[0].device_id, rows[0].uuid))
