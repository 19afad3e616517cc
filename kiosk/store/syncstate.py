"""The terminal's county-sync state inside the local store (schema v3).

* identity: device id, hub URL, this device's Ed25519 (signing) and X25519 (receiving) private
  keys sealed with the store's template key, the hub's public keys, the pinned certificate;
  A copy of those two private keys is kept in `device.key` (0600) in the key folder, beside but
  apart from the template key, so that a lost template key does not stop the records
  (which need no template key) from being signed and sent or exported to the county;
* small state values (cursors, last success, last error, clock offset), not audited because
  they change on every sync;
* outbox rows the county refused (kept, shown to staff, never resent automatically);
* the county's view of each resident (change number, latest certification anywhere).
"""
from __future__ import annotations

import json
import os
from base64 import b64decode
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..policy import Category
from ..core.ids import InvalidIdNumber, mask_id
from ..texts import text
from . import TemplateKeyError, crypto
from .db import CONTACT_FIELDS, MASK_ACKED_PAYLOAD, OutboxItem, Store, _outbox, _translating


@dataclass(frozen=True)
class Identity:
    device_id: str
    hub_url: str | None
    village: str | None
    county: str | None
    sign_key: bytes  # Ed25519 raw private key
    box_key: bytes  # X25519 raw private key
    hub_sign_pub: str
    hub_box_pub: str
    hub_cert_pin: str | None
    registered_at: str


class SyncState:
    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    # ------------------------------------------------------------------ identity
    @_translating
    def identity(self) -> Identity | None:
        rows = list(self.db.query("SELECT * FROM sync_identity WHERE id = 1"))
        if not rows:
            return None
        r = rows[0]
        if self.store.has_key:
            key = self.store._key
            sign_key = crypto.decrypt(key, r["sign_nonce"], r["sign_ct"], "sync-identity|sign")
            box_key = crypto.decrypt(key, r["box_nonce"], r["box_ct"], "sync-identity|box")
            if self.device_key_path and not self.device_key_path.exists():
                try:  # terminals registered before device.key existed get it now
                    write_device_key(self.device_key_path, sign_key, box_key)
                except OSError:
                    pass
        else:
            sign_key, box_key = self._device_key_without_template_key()
        return Identity(
            device_id=r["device_id"], hub_url=r["hub_url"], village=r["village"], county=r["county"],
            sign_key=sign_key, box_key=box_key,
            hub_sign_pub=r["hub_sign_pub"], hub_box_pub=r["hub_box_pub"], hub_cert_pin=r["hub_cert_pin"],
            registered_at=r["registered_at"],
        )

    @property
    def device_key_path(self) -> Path | None:
        key_path = getattr(self.store, "key_path", None)
        return Path(key_path).parent / DEVICE_KEY_NAME if key_path else None

    def _device_key_without_template_key(self) -> tuple[bytes, bytes]:
        path = self.device_key_path
        try:
            raw = path.read_bytes() if path else b""
        except OSError:
            raw = b""
        if len(raw) != 2 * crypto.KEY_BYTES:
            raise TemplateKeyError("device_key_missing", detail=str(path))
        return raw[:crypto.KEY_BYTES], raw[crypto.KEY_BYTES:]

    @_translating
    def save_identity(self, *, device_id: str, hub_url: str, village: str | None, county: str | None,
                      sign_key: bytes, box_key: bytes, hub_sign_pub: str, hub_box_pub: str,
                      hub_cert_pin: str | None) -> None:
        key = self.store._key
        sn, sc = crypto.encrypt(key, sign_key, "sync-identity|sign")
        bn, bc = crypto.encrypt(key, box_key, "sync-identity|box")
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO sync_identity (id, device_id, hub_url, village, county, sign_nonce, sign_ct, box_nonce,"
                " box_ct, hub_sign_pub, hub_box_pub, hub_cert_pin, registered_at)"
                " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [device_id, hub_url, village, county, sn, sc, bn, bc, hub_sign_pub, hub_box_pub, hub_cert_pin, self.store._iso()],
            )
            self.store._audit_row("kiosk", "device_registered",
                                  {"device_id": device_id, "hub": hub_url, "village": village}, None)
        if self.device_key_path:
            write_device_key(self.device_key_path, sign_key, box_key)

    # ------------------------------------------------------------------ small state
    @_translating
    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    @_translating
    def set(self, **values: Any) -> None:
        with self.db.atomic():
            for k, v in values.items():
                self.db.execute(
                    "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [k, json.dumps(v, ensure_ascii=False)],
                )

    # ------------------------------------------------------------------ outbox
    @_translating
    def outbox_to_send(self, limit: int = 500) -> list[OutboxItem]:
        rows = self.db.query(
            "SELECT * FROM outbox WHERE acked_at IS NULL AND uuid NOT IN (SELECT uuid FROM outbox_rejected)"
            " ORDER BY created_at, rowid LIMIT ?", [limit])
        return [_outbox(r) for r in rows]

    @_translating
    def record_acks(self, acked: Iterable[str], rejected: Iterable[tuple[str, str, str]] = (),
                    failed_error: str | None = None) -> None:
        """One transaction: acknowledged rows, refused rows (kept), tries counter."""
        now = self.store._iso()
        with self.db.atomic():
            for u in acked:
                self.db.execute("UPDATE outbox SET acked_at = coalesce(acked_at, ?), sent_at = coalesce(sent_at, ?),"
                                f" tries = tries + 1, last_error = NULL, payload = {MASK_ACKED_PAYLOAD}"
                                " WHERE uuid = ?", [now, now, u])
            for u, code, message in rejected:
                self.db.execute("UPDATE outbox SET tries = tries + 1, last_error = ? WHERE uuid = ?",
                                [f"{code}: {message}", u])
                self.db.execute("INSERT OR IGNORE INTO outbox_rejected (uuid, code, message, at) VALUES (?, ?, ?, ?)",
                                [u, code, message, now])

    @_translating
    def retry_rejected(self) -> int:
        """Offer records the county refused once more (e.g. after the county upgraded its hub)."""
        with self.db.atomic():
            n = self.db.execute("DELETE FROM outbox_rejected").rowcount
            if n:
                self.store._audit_row("kiosk", "rejected_records_retried", {"count": n}, None)
        return n

    @_translating
    def mark_failed(self, uuids: Iterable[str], error: str) -> None:
        self.store.mark_failed(uuids, error)

    @_translating
    def counts(self) -> dict:
        pending = self.db.execute("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0]
        rejected = self.db.execute(
            "SELECT count(*) FROM outbox_rejected r JOIN outbox o USING (uuid) WHERE o.acked_at IS NULL").fetchone()[0]
        audit_max = self.db.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
        audit_pending = self.db.execute("SELECT count(*) FROM audit_log WHERE seq > ?",
                                        [int(self.get("audit_cursor", 0))]).fetchone()[0]
        return {"pending": pending, "rejected": rejected, "audit_pending": audit_pending, "audit_max": audit_max}

    @_translating
    def audit_after(self, seq: int, limit: int) -> list[dict]:
        return self.store.audit_entries(after_seq=seq, limit=limit)

    # ------------------------------------------------------------------ roster from the county
    @_translating
    def apply_roster(self, entries: list[dict]) -> tuple[int, list[str]]:
        """Apply county roster entries newer than what we hold. Returns (applied, errors)."""
        applied, errors = 0, []
        now = self.store._iso()
        with self.store.transaction():
            for e in entries:
                rid = e["id_number"]
                ref = self.store._ref(rid)  # the database holds the keyed reference, not the number
                row = self.db.execute("SELECT version FROM county_roster WHERE resident_id = ?", [ref]).fetchone()
                if row is not None and row[0] >= e["version"]:
                    continue
                if e.get("removed"):
                    self.db.execute("DELETE FROM residents WHERE id_number = ?", [ref])  # templates cascade
                else:
                    try:
                        self.store.upsert_resident(
                            rid, e["name"], village=e.get("village"),
                            categories=[Category.parse(c) for c in e.get("categories") or []],
                            benefit_start=_d(e.get("benefit_start")), data_comparison_on=_d(e.get("data_comparison_on")),
                            county_status=e.get("county_status") or "active",
                        )
                    except (InvalidIdNumber, ValueError) as err:
                        errors.append(f"{mask_id(rid)}: {err}")
                        continue
                    # Address / phone / 联系人 for home visits (protocol v4 RosterEntry), kept sealed.
                    # A v4 entry replaces what is kept (the county cleared a field: it goes here too).
                    if any(k in e for k in ROSTER_CONTACT_KEYS):
                        self.store.set_resident_contact(rid, contact_from_roster(e))
                    else:  # a roster entry from before v4 that has the store's own keys
                        contact = {k: e.get(k) for k in CONTACT_FIELDS if e.get(k)}
                        if contact:
                            self.store.set_resident_contact(rid, contact)
                self.db.execute(
                    "INSERT INTO county_roster (resident_id, version, certified_on, pulled_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (resident_id) DO UPDATE SET version = excluded.version,"
                    " certified_on = excluded.certified_on, pulled_at = excluded.pulled_at",
                    [ref, e["version"], e.get("certified_on"), now],
                )
                applied += 1
            if applied:
                self.store._audit_row("county", "roster_applied", {"changed": applied, "errors": len(errors)}, None)
        return applied, errors

    @_translating
    def apply_policy(self, policy: dict | None) -> bool:
        if policy and self.store.get_setting("cycle_rule") != policy:
            self.store.set_setting("cycle_rule", policy, actor="county")
            return True
        return False

    # ------------------------------------------------------------------ county policy, enrolments, operators (v4)
    @_translating
    def share_templates(self) -> bool:
        """The county's setting (roster page / bundle): approved templates go up to be shared with
        the county's other terminals. On until the county says otherwise."""
        return bool(self.store.get_setting(SHARE_TEMPLATES_KEY, True))

    @_translating
    def apply_share_templates(self, value: bool | None) -> bool:
        """The county's setting, from a v4 hub (None: an older hub, which knows no enrolment records)."""
        if value is None:
            return False  # an older hub says nothing: keep what we have
        if int(self.get("county_protocol", 0) or 0) < 4:
            self.set(county_protocol=4)
        if self.store.get_setting(SHARE_TEMPLATES_KEY) == bool(value):
            return False
        self.store.set_setting(SHARE_TEMPLATES_KEY, bool(value), actor="county")
        return True

    @_translating
    def apply_county_protocol(self, version: object) -> bool:
        """v5+: the protocol the hub says it speaks (X-Kiosk-Protocol, or `protocol` in a county
        bundle). Never lowered; an older hub says nothing (None/0)."""
        try:
            v = int(version or 0)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False
        if v <= int(self.get("county_protocol", 0) or 0):
            return False
        self.set(county_protocol=v)
        return True

    def enrolment_uuid(self, device_id: str, enrolment_id: int) -> str:
        return record_uuid(device_id, "enrolment", enrolment_id)

    @_translating
    def queue_enrolments(self, device_id: str) -> int:
        """Put every reviewed enrolment not yet queued into the outbox as an `enrolment` record
        (who enrolled, read the consent, approved or rejected; roles; times). Whether its template
        goes with it is fixed here, from the county's setting in force now. Needs the template key
        (the resident's ID is sealed) and a hub that has said it speaks v4 (its roster page or
        bundle carried share_templates); until then they wait in the enrolments table."""
        if not self.store.has_key or int(self.get("county_protocol", 0) or 0) < 4:
            return 0  # a hub from before v4 would refuse the whole batch: they wait for the county's upgrade
        queued = 0
        roles = {r[0]: r[1] for r in self.db.execute("SELECT name, role FROM operators").fetchall()}
        share = self.share_templates()
        with self.db.atomic():
            for e in self.store.list_enrolments():
                if e["status"] not in ("approved", "rejected"):
                    continue
                uuid = self.enrolment_uuid(device_id, e["id"])
                if self.db.execute("SELECT 1 FROM outbox WHERE uuid = ?", [uuid]).fetchone():
                    continue
                payload = {"uuid": uuid, "resident_id": e["resident"], "backend": e["backend"],
                           "decision": e["status"], "frames": e["frames"], "enrolled_by": e["enrolled_by"],
                           "enrolled_by_role": roles.get(e["enrolled_by"]), "consent_read_by": e["consent_read_by"],
                           "consent_at": e["consent_at"], "created_at": e["created_at"],
                           "reviewed_by": e["reviewed_by"], "reviewed_by_role": roles.get(e["reviewed_by"]),
                           "reviewed_at": e["reviewed_at"], "reject_reason": e["reject_reason"],
                           "template_shared": share and e["status"] == "approved", "device_id": device_id}
                if int(self.get("county_protocol", 0) or 0) >= 5:  # the duplicate-face check (kiosk.dupface)
                    payload.update(_resemblance_fields(e))
                self.db.execute("INSERT INTO outbox (uuid, kind, payload, created_at, tries) VALUES (?, 'enrolment', ?, ?, 0)",
                                [uuid, json.dumps(payload, ensure_ascii=False), e["reviewed_at"]])
                self.store._audit_row("kiosk", "enrolment_queued_for_county",
                                      {"enrolment": e["id"], "resident": mask_id(e["resident"]),
                                       "template_shared": payload["template_shared"]}, None)
                queued += 1
        return queued

    @_translating
    def enrolment_vectors(self, device_id: str, uuid: str) -> tuple[str, list[np.ndarray]] | None:
        """(resident, vectors) of the approved enrolment behind an `enrolment` record, or None
        (no key, rejected, or since replaced by a newer approved enrolment)."""
        if not self.store.has_key:
            return None
        for e in self.store.list_enrolments(status="approved"):
            if self.enrolment_uuid(device_id, e["id"]) != uuid:
                continue
            rows = self.db.query("SELECT * FROM templates WHERE enrolment_id = ? ORDER BY id", [e["id"]])
            vectors = [self.store._decrypt_template(r, e["resident"]) for r in rows]
            return (e["resident"], vectors) if vectors else None
        return None

    @_translating
    def apply_county_operators(self, entries: list[dict]) -> tuple[int, list[str]]:
        """Operators the county sends down (name, role, scrypt PIN hash): added, changed or disabled.
        A name already used by an operator made on this terminal is left alone (reported)."""
        applied, errors = 0, []
        now = self.store._iso()
        with self.db.atomic():
            for o in entries:
                row = self.db.execute("SELECT id, created_by, pin_hash FROM operators WHERE name = ?",
                                      [o["name"]]).fetchone()
                if row is not None and row[1] != COUNTY_ACTOR:
                    errors.append(text("store_county_operator_clash", name=o["name"]))
                    continue
                digest, salt = b64decode(o["pin_hash"]), b64decode(o["pin_salt"])
                if row is None:
                    self.db.execute(
                        "INSERT INTO operators (name, role, pin_hash, pin_salt, pin_params, active, created_at, created_by)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [o["name"], o["role"], digest, salt, o["pin_params"], int(o.get("active", True)), now,
                         COUNTY_ACTOR])
                else:
                    reset = ", failed_attempts = 0, locked_until = NULL" if bytes(row[2]) != digest else ""
                    self.db.execute(f"UPDATE operators SET role = ?, pin_hash = ?, pin_salt = ?, pin_params = ?, active = ?{reset}"
                                    " WHERE id = ?", [o["role"], digest, salt, o["pin_params"], int(o.get("active", True)),
                                                      row[0]])
                self.store._audit_row("county", "operator_from_county",
                                      {"operator": o["name"], "role": o["role"], "active": bool(o.get("active", True))},
                                      None)
                applied += 1
        return applied, errors

    @_translating
    def template_version(self, resident_id: str, backend: str) -> int:
        row = self.db.execute("SELECT version FROM county_template_versions WHERE resident_id = ? AND backend = ?",
                              [self.store._ref(resident_id), backend]).fetchone()
        return row[0] if row else 0

    @_translating
    def replace_county_templates(self, resident_id: str, backend: str, version: int,
                                 vectors: list[np.ndarray]) -> bool:
        """County templates for one resident/backend, replaced as a set; local ones are kept."""
        if self.template_version(resident_id, backend) >= version:
            return False
        if self.store.get_resident(resident_id) is None:
            return False  # not on this terminal's roster (yet): the next pull brings it
        with self.store.transaction():
            self.db.execute("DELETE FROM templates WHERE resident_id = ? AND backend = ? AND source = 'county'",
                            [self.store._ref(resident_id), backend])
            for v in vectors:
                self.store.add_template(resident_id, v, backend, source="county")
            self.db.execute(
                "INSERT INTO county_template_versions (resident_id, backend, version) VALUES (?, ?, ?)"
                " ON CONFLICT (resident_id, backend) DO UPDATE SET version = excluded.version",
                [self.store._ref(resident_id), backend, version])
        return True


DEVICE_KEY_NAME = "device.key"


def write_device_key(path: Path, sign_key: bytes, box_key: bytes) -> None:
    """The device's private keys (Ed25519 then X25519, 32 bytes each), 0600, written atomically."""
    crypto.make_key_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, sign_key + box_key)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


SHARE_TEMPLATES_KEY = "county_share_templates"
COUNTY_ACTOR = "county"  # operators.created_by for operators the county sent down
ROSTER_CONTACT_KEYS = ("address", "phone", "contact_name", "contact_phone")


def contact_from_roster(e: dict) -> dict[str, str | None]:
    """A v4 roster entry's contact fields in the store's shape (联系人 = name and phone together)."""
    contact = " ".join(x for x in (e.get("contact_name"), e.get("contact_phone")) if x) or None
    return {"address": e.get("address"), "phone": e.get("phone"), "contact": contact}


def record_uuid(device_id: str, stream: str, key: str | int) -> str:
    """The protocol's stable record UUID (kiosk.protocol.record_uuid: same namespace and form)."""
    import uuid as uuidlib

    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"village-kiosk:{device_id}:{stream}:{key}"))


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _resemblance_fields(e: dict) -> dict:
    """v5 fields of an enrolment record: the other residents its face resembles (clear ID numbers:
    the county holds the roster; no face data) and the reviewer's confirmation, if any."""
    found = [{"resident_id": r["resident"], "distance": r.get("distance"), "within": bool(r.get("within")),
              "method": r.get("method"), "source": r.get("source")}
             for r in e.get("resembles") or [] if r.get("resident")]
    conf = e.get("resemble_confirmation")
    return {"resembles_other": sum(r["within"] for r in found), "resembles": found,
            "resemble_confirmation": {k: conf[k] for k in ("kind", "reason", "by")} if conf else None}
