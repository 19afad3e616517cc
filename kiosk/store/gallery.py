"""The other residents' template sets of one backend, for the duplicate-face check at enrolment
(kiosk.dupface, kiosk.matching.duplicates): what counts for matching (county, photo and approved
templates, with the embeddings aged from strong passes: kiosk.store.ageing) as one set per resident,
and each pending enrolment as a set of its own. Sealed vectors are opened with the store's key, as
matching does; nothing is written.
"""
from __future__ import annotations

from kiosk.core.ids import normalize
from kiosk.matching.duplicates import GallerySet

from .db import _COUNTS, Store


def other_sets(store: Store, backend: str, exclude: str | None = None) -> list[GallerySet]:
    """Every resident's sets but `exclude`'s (the resident being enrolled)."""
    skip = normalize(exclude) if exclude else None
    sets: list[GallerySet] = []
    aged = _aged(store, backend)
    for rid, vecs in store.all_templates(backend).items():
        if rid == skip:
            continue
        sets.append(GallerySet(rid, list(vecs) + aged.get(rid, []), "enrolled"))
    for e in store.list_enrolments(status="pending_review"):
        if e["backend"] != backend or e["resident"] == skip:
            continue
        rows = store.db.query("SELECT * FROM templates WHERE enrolment_id = ? ORDER BY id", [e["id"]])
        vecs = [store._decrypt_template(r, e["resident"]) for r in rows]
        if vecs:
            sets.append(GallerySet(e["resident"], vecs, "pending"))
    return sets


def _aged(store: Store, backend: str) -> dict[str, list]:
    """The aged embeddings that count now (kiosk.store.ageing.vectors for every resident, one query)."""
    counts = _COUNTS.replace("enrolment_id", "t.enrolment_id")
    out: dict[str, list] = {}
    numbers: dict[str, str] = {}
    for r in store.db.query(
        "SELECT a.*, p.id_nonce AS p_nonce, p.id_ct AS p_ct FROM auto_templates a"
        " LEFT JOIN residents p ON p.id_number = a.resident_id WHERE a.backend = ? AND a.base_template_id ="
        " (SELECT max(t.id) FROM templates t WHERE t.resident_id = a.resident_id AND t.backend = a.backend"
        f" AND {counts}) ORDER BY a.id", [backend]
    ):
        ref = r["resident_id"]
        if ref not in numbers:
            numbers[ref] = store._open_id(ref, r["p_nonce"], r["p_ct"])
        out.setdefault(numbers[ref], []).append(store._decrypt_template(r, numbers[ref]))
    return out
