"""At enrolment, is the new face already another resident's? (冒领: a relative's face under a parent's ID)

`check(store, settings, resident, vectors, backend)` compares a new template set with every other
resident's templates in this terminal's store (counted, aged and pending ones of the same backend:
kiosk.store.gallery) with the calibrated 1:1 operating point (kiosk.matching.duplicates, the Matcher
from kiosk.toml), and `save_enrolment` stores it pending review with its findings (the app and
`kiosk enrol` both call it). An enrolment is *flagged* when a certification of its face claiming
another resident would pass (`within`).

A flagged enrolment is approved only with the reviewer's explicit confirmation
(`require_confirmation`): a kind (CONFIRM_KINDS: 已核实不是同一人) and a reason, picked or typed; it
is kept on the enrolment, audited, and sent to the county with the enrolment record.
Errors: DupFaceError (codes `dupface_error_<code>` in kiosk.texts).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from kiosk.core.errors import KioskError
from kiosk.texts import text

CONFIRM_KINDS = ("different_person",)
CONFIRM_REASONS = ("checked_id_cards", "twins_or_siblings", "checked_in_person")  # ui words: dupface_reason_<key>
ERROR_CODES = ("confirmation_required", "no_confirm_reason")


class DupFaceError(KioskError):
    def __init__(self, code: str, **data: Any) -> None:
        self.data = data
        super().__init__(code, text(f"dupface_error_{code}", **data))


def check(store: Any, settings: Any, resident: str, vectors: Sequence[Any], backend: str) -> tuple[list[dict], int]:
    """(findings as dicts, nearest first; how many other residents were compared)."""
    from kiosk.matching.duplicates import Gallery, resembling
    from kiosk.matching.scoring import Matcher
    from kiosk.store.gallery import other_sets

    gallery = Gallery(other_sets(store, backend, exclude=resident))
    if not len(gallery):
        return [], 0
    matcher = Matcher.from_settings(settings, backend)
    return [r.to_json() for r in resembling(list(vectors), gallery, matcher)], len(gallery)


def save_enrolment(store: Any, settings: Any, resident: str, vectors: Sequence[Any], backend: str, *,
                   enrolled_by: str, consent_read_by: str, consent_at: datetime, quality: dict | None = None) -> int:
    """The enrolment saved pending review, with the duplicate-face check's findings."""
    found, compared = check(store, settings, resident, vectors, backend)
    return int(store.add_enrolment(resident, list(vectors), backend, enrolled_by=enrolled_by,
                                   consent_read_by=consent_read_by, consent_at=consent_at, quality=quality,
                                   resembles=found, compared=compared))


def flagged(enrolment: dict) -> list[dict]:
    """The other residents an enrolment's face is within the threshold of."""
    return [r for r in enrolment.get("resembles") or [] if r.get("within")]


def require_confirmation(enrolment: dict, kind: str | None, reason: str | None) -> dict | None:
    """Approving: None when the enrolment is not flagged; else the confirmation to record, or
    DupFaceError when it is missing."""
    if not flagged(enrolment):
        return None
    if kind not in CONFIRM_KINDS:
        raise DupFaceError("confirmation_required", n=len(flagged(enrolment)))
    reason = (reason or "").strip()
    if reason in CONFIRM_REASONS:
        reason = text(f"dupface_reason_{reason}")
    if not reason:
        raise DupFaceError("no_confirm_reason")
    return {"kind": kind, "reason": reason[:200]}


def describe(store: Any, enrolment: dict) -> list[dict]:
    """What a reviewer sees of each flagged other resident: masked name and ID, how close, whether
    that resident's set is enrolled or itself pending. (No photo: the terminal keeps none.)"""
    from kiosk.core.ids import mask_id, mask_name

    out = []
    for r in flagged(enrolment):
        rid = r.get("resident")
        person = store.get_resident(rid) if rid else None
        out.append({"id": mask_id(rid) if rid else "", "name": mask_name(person.name) if person else "",
                    "village": (person.village or "") if person else "", "distance": r.get("distance"),
                    "source": r.get("source", "enrolled"), "removed": person is None})
    return out
