"""Templates that age with the person: the bounded, audited auto-added embeddings of a resident
(schema AGEING_MIGRATION, table `auto_templates`; the rule is kiosk.matching.ageing).

The enrolled templates (`templates`: county or local, approved) always stay and are never touched
here. An auto-added embedding counts only while the resident's enrolled set is the one it was
added to (`base_template_id`, the newest counted template id then): a re-enrolment or new county
templates start afresh. Every addition and every drop is in the audit log (masked ID, no vector).
"""
from __future__ import annotations

from datetime import datetime

import numpy as np

from kiosk.core.ids import mask_id, normalize

from . import crypto
from .db import _COUNTS, Store


def _base(store: Store, ref: str, backend: str) -> int | None:
    row = store.db.execute(f"SELECT max(id) FROM templates WHERE resident_id = ? AND backend = ? AND {_COUNTS}",
                           [ref, backend]).fetchone()
    return row[0] if row and row[0] is not None else None


def vectors(store: Store, resident_id: str, backend: str) -> list[np.ndarray]:
    """The auto-added embeddings that count now (oldest first)."""
    rid = normalize(resident_id)
    ref = store._ref(rid)
    base = _base(store, ref, backend)
    if base is None:
        return []
    rows = store.db.query("SELECT * FROM auto_templates WHERE resident_id = ? AND backend = ? AND base_template_id = ?"
                          " ORDER BY id", [ref, backend, base])
    return [store._decrypt_template(r, rid) for r in rows]


def add(store: Store, resident_id: str, vector: np.ndarray, backend: str, *, attempt_uuid: str,
        score: float | None, bound: int, now: datetime | None = None) -> int:
    """Add one strong pass's probe; keep the newest `bound`. Returns how many were dropped."""
    rid = normalize(resident_id)
    ref = store._ref(rid)
    with store.transaction():
        base = _base(store, ref, backend)
        if base is None:
            return 0  # no enrolled template (removed meanwhile): nothing to age
        dtype, dim, nonce, ct = crypto.encrypt_vector(store._key, vector, crypto.vector_aad(rid, backend))
        store.db.execute(
            "INSERT INTO auto_templates (resident_id, backend, dim, dtype, nonce, ciphertext, base_template_id,"
            " attempt_uuid, score, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ref, backend, dim, dtype, nonce, ct, base, attempt_uuid, score, store._iso(now)])
        stale = [r[0] for r in store.db.execute(
            "SELECT id FROM auto_templates WHERE resident_id = ? AND backend = ? AND base_template_id != ?",
            [ref, backend, base]).fetchall()]
        current = [r[0] for r in store.db.execute(
            "SELECT id FROM auto_templates WHERE resident_id = ? AND backend = ? AND base_template_id = ?"
            " ORDER BY id DESC", [ref, backend, base]).fetchall()]
        drop = stale + current[max(1, bound):]
        if drop:
            store.db.execute(f"DELETE FROM auto_templates WHERE id IN ({','.join('?' * len(drop))})", drop)
        store._audit_row("kiosk", "template_auto_added",
                         {"resident": mask_id(rid), "backend": backend, "attempt": attempt_uuid,
                          "score": None if score is None else round(float(score), 3), "kept": min(len(current), bound),
                          "dropped": len(drop)}, now)
    return len(drop)


def clear(store: Store, resident_id: str, backend: str | None = None, now: datetime | None = None) -> int:
    """Remove a resident's auto-added embeddings (the person asks, or staff reset them); audited."""
    rid = normalize(resident_id)
    where, params = "resident_id = ?", [store._ref(rid)]
    if backend is not None:
        where, params = where + " AND backend = ?", params + [backend]
    with store.transaction():
        n = store.db.execute(f"DELETE FROM auto_templates WHERE {where}", params).rowcount
        store._audit_row("kiosk", "template_auto_cleared", {"resident": mask_id(rid), "backend": backend, "count": n},
                         now)
    return n
