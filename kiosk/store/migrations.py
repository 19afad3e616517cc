"""Versioned schema. The version is SQLite's `PRAGMA user_version`.

Append new migrations to MIGRATIONS; never edit one that has shipped. Each runs in its
own transaction together with the version bump, so a failure leaves the old version.
"""
from __future__ import annotations

from typing import Callable

from sqlite_utils import Database

from . import StoreTooNew

_V1_CORE = [
    """CREATE TABLE residents (
        id_number TEXT PRIMARY KEY CHECK (length(id_number) = 18),
        name TEXT NOT NULL CHECK (name <> ''),
        birth_date TEXT NOT NULL,
        sex TEXT NOT NULL CHECK (sex IN ('男', '女')),
        region TEXT NOT NULL,
        village TEXT,
        categories TEXT NOT NULL DEFAULT '[]',
        benefit_start TEXT,
        data_comparison_on TEXT,
        county_status TEXT NOT NULL DEFAULT 'active'
            CHECK (county_status IN ('active', 'suspended', 'deceased')),
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX residents_village ON residents (village, name)",
    # Deleting a resident deletes their biometric templates with them.
    """CREATE TABLE templates (
        id INTEGER PRIMARY KEY,
        resident_id TEXT NOT NULL REFERENCES residents (id_number) ON DELETE CASCADE,
        backend TEXT NOT NULL,
        dim INTEGER NOT NULL CHECK (dim > 0),
        dtype TEXT NOT NULL CHECK (dtype IN ('float32', 'float64')),
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('county', 'local')),
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX templates_resident ON templates (resident_id, backend)",
    # No foreign key: the record of an attempt must survive roster changes.
    """CREATE TABLE attempts (
        uuid TEXT PRIMARY KEY,
        resident_id TEXT NOT NULL,
        category TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('self', 'proxy')),
        helper_relationship TEXT,
        helper_id_masked TEXT,
        operator TEXT,
        device_id TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
        reason TEXT,
        message TEXT,
        scores TEXT NOT NULL DEFAULT '{}',
        liveness TEXT NOT NULL DEFAULT '{}'
    )""",
    """CREATE TABLE outbox (
        uuid TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        acked_at TEXT,
        tries INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    )""",
    """CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}'
    )""",
    # Append-only: records of processing must not be rewritten (PIPL).
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # One sealed constant that tells the right template key from a wrong one.
    """CREATE TABLE key_check (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        created_at TEXT NOT NULL
    )""",
]

_V2_CAPTURES = [
    # Raw images kept only when the county sets a retention period (default 0 days: none).
    """CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        attempt_uuid TEXT NOT NULL REFERENCES attempts (uuid),
        resident_id TEXT NOT NULL,
        media_type TEXT NOT NULL,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        captured_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    "CREATE INDEX captures_expiry ON captures (expires_at)",
    "CREATE INDEX attempts_resident ON attempts (resident_id, started_at)",
    "CREATE INDEX outbox_pending ON outbox (acked_at, created_at)",
]


_V3_SYNC = [
    # This terminal's identity at the county hub; private keys sealed with the template key.
    """CREATE TABLE sync_identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        device_id TEXT NOT NULL,
        hub_url TEXT,
        village TEXT,
        county TEXT,
        sign_nonce BLOB NOT NULL,
        sign_ct BLOB NOT NULL,
        box_nonce BLOB NOT NULL,
        box_ct BLOB NOT NULL,
        hub_sign_pub TEXT NOT NULL,
        hub_box_pub TEXT NOT NULL,
        hub_cert_pin TEXT,
        registered_at TEXT NOT NULL
    )""",
    # Cursors, last success/error, clock offset: not audited (they change on every sync).
    "CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # Outbox rows the county refused (kept, never deleted, shown to staff).
    """CREATE TABLE outbox_rejected (
        uuid TEXT PRIMARY KEY REFERENCES outbox (uuid),
        code TEXT NOT NULL,
        message TEXT,
        at TEXT NOT NULL
    )""",
    # What the county last told us about each resident (version = county change number).
    """CREATE TABLE county_roster (
        resident_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        certified_on TEXT,
        pulled_at TEXT NOT NULL
    )""",
    """CREATE TABLE county_template_versions (
        resident_id TEXT NOT NULL,
        backend TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (resident_id, backend)
    )""",
]


_V4_PERSONAL = [
    # Names and ID numbers sealed with a key derived from the template key; the ID-number
    # columns then hold a keyed HMAC reference (crypto.blind_ref). The rows are converted by
    # Store.open once the key is at hand (store.db.protect_personal_data), not here.
    "ALTER TABLE residents ADD COLUMN id_nonce BLOB",
    "ALTER TABLE residents ADD COLUMN id_ct BLOB",
    "ALTER TABLE residents ADD COLUMN name_nonce BLOB",
    "ALTER TABLE residents ADD COLUMN name_ct BLOB",
    "ALTER TABLE attempts ADD COLUMN resident_nonce BLOB",
    "ALTER TABLE attempts ADD COLUMN resident_ct BLOB",
]


_V5_OPERATORS = [
    # Staff accounts on this terminal (kiosk.operators). The PIN is kept only as a scrypt hash
    # with its own random salt and the parameters it was made with; never the PIN itself.
    """CREATE TABLE operators (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (name <> ''),
        role TEXT NOT NULL CHECK (role IN ('assistant', 'reviewer', 'admin')),
        pin_hash BLOB NOT NULL,
        pin_salt BLOB NOT NULL,
        pin_params TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
        locked_until TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT
    )""",
]


_V6_ENROLMENTS = [
    # Enrolment at the terminal (kiosk.enrolment): a template set waits for a second operator's
    # review; only then do its vectors count (Store.templates_for). No face data here: the
    # vectors are in `templates` (sealed), tied to their enrolment by enrolment_id.
    """CREATE TABLE enrolments (
        id INTEGER PRIMARY KEY,
        resident_id TEXT NOT NULL REFERENCES residents (id_number) ON DELETE CASCADE,
        backend TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending_review'
            CHECK (status IN ('pending_review', 'approved', 'rejected')),
        frames INTEGER NOT NULL CHECK (frames > 0),
        quality TEXT NOT NULL DEFAULT '{}',
        enrolled_by TEXT NOT NULL,
        consent_read_by TEXT NOT NULL,
        consent_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        reviewed_by TEXT,
        reviewed_at TEXT,
        reject_reason TEXT
    )""",
    "CREATE INDEX enrolments_status ON enrolments (status, created_at)",
    # NULL: a county or photo template (counts at once); else it counts once its enrolment is approved.
    "ALTER TABLE templates ADD COLUMN enrolment_id INTEGER REFERENCES enrolments (id) ON DELETE CASCADE",
]

# Home visits (上门认证, kiosk.visits). VISITS_MIGRATION below is this migration's version: when
# another branch takes the number first, move it (one line) to the next free one.
_VISITS = [
    # What the roster knows for a visit: address, phone, 联系人 — one sealed JSON object (personal
    # data, like names). The county's roster protocol does not carry them yet; kiosk.visits shows
    # them when a later roster (or Store.set_resident_contact) fills them.
    "ALTER TABLE residents ADD COLUMN contact_nonce BLOB",
    "ALTER TABLE residents ADD COLUMN contact_ct BLOB",
    # One row per visit; the resident is the blind reference (as in residents.id_number), the
    # note is sealed (it may name people or phones). No foreign key: a visit outlives roster changes.
    """CREATE TABLE visits (
        uuid TEXT PRIMARY KEY,
        resident_id TEXT NOT NULL,
        operator TEXT NOT NULL,
        at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN
            ('visited_certified', 'visited_not_certified', 'not_at_home', 'refused')),
        note_nonce BLOB,
        note_ct BLOB
    )""",
    "CREATE INDEX visits_resident ON visits (resident_id, at)",
]

# Certification without a face (kiosk.store.fallbacks). FALLBACKS_MIGRATION below is this migration's
# version: one line to move when another branch takes the number first.
_FALLBACKS = [
    # Certification without a face (工作人员核实认证 / 亲属承诺): pending county review, never a face
    # pass. The resident's ID is a blind reference plus sealed copy (like attempts); the relative's
    # name, full ID and phone are sealed together (only their masked ID is kept in the clear).
    """CREATE TABLE fallbacks (
        uuid TEXT PRIMARY KEY,
        resident_id TEXT NOT NULL,
        resident_nonce BLOB,
        resident_ct BLOB,
        category TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('staff_witness', 'relative_pledge')),
        reason TEXT NOT NULL,
        detail TEXT,
        operator TEXT NOT NULL,
        device_id TEXT,
        relation TEXT,
        relative_id_masked TEXT,
        relative_nonce BLOB,
        relative_ct BLOB,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending_county_review'
            CHECK (status IN ('pending_county_review', 'approved', 'rejected')),
        decided_at TEXT,
        decided_by TEXT,
        decision_reason TEXT
    )""",
    "CREATE INDEX fallbacks_resident ON fallbacks (resident_id, status)",
]


# Templates that age with the person (kiosk.store.ageing). AGEING_MIGRATION below is this migration's
# version: one line to move when another branch takes the number first.
_AGEING = [
    # Probes of strong passes added to a resident's template set (bounded; the enrolled templates stay
    # in `templates`). Sealed like templates; `base_template_id` is the newest counted template when it
    # was added: a re-enrolment or new county templates change that, and the older additions stop
    # counting (they are purged at the next addition).
    """CREATE TABLE auto_templates (
        id INTEGER PRIMARY KEY,
        resident_id TEXT NOT NULL REFERENCES residents (id_number) ON DELETE CASCADE,
        backend TEXT NOT NULL,
        dim INTEGER NOT NULL CHECK (dim > 0),
        dtype TEXT NOT NULL CHECK (dtype IN ('float32', 'float64')),
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        base_template_id INTEGER NOT NULL,
        attempt_uuid TEXT NOT NULL,
        score REAL,
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX auto_templates_resident ON auto_templates (resident_id, backend, id)",
]


# The duplicate-face check at enrolment (kiosk.dupface). DUPFACE_MIGRATION below is this migration's
# version: one line to move when another branch takes the number first.
_DUPFACE = [
    # The other residents the enrolment's face resembles, found when it was saved (JSON list of
    # {ref: the other resident's blind reference, distance, within, method, threshold, score}; no
    # face data), and the reviewer's explicit confirmation when approving one that resembles
    # someone (JSON {kind, reason, by, at}; NULL: none given).
    "ALTER TABLE enrolments ADD COLUMN resembles TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE enrolments ADD COLUMN resemble_confirmation TEXT",
]

def _statements(sql: list[str]) -> Callable[[Database], None]:
    def apply(db: Database) -> None:
        for statement in sql:
            db.execute(statement)

    return apply


MIGRATIONS: list[Callable[[Database], None]] = [
    _statements(_V1_CORE),  # v1: core tables
    _statements(_V2_CAPTURES),  # v2: capture retention + lookup indexes
    _statements(_V3_SYNC),  # v3: county sync state (identity, cursors, refused records, county roster)
    _statements(_V4_PERSONAL),  # v4: sealed names and ID numbers, blind references
    _statements(_V5_OPERATORS),  # v5: staff accounts (hashed PINs, lockout)
    _statements(_V6_ENROLMENTS),  # v6: enrolments at the terminal, pending a reviewer's approval
    _statements(_VISITS),  # v7 (VISITS_MIGRATION): home visits, residents' sealed contact details
    _statements(_FALLBACKS),  # v8 (FALLBACKS_MIGRATION): certification without a face, pending county review
    _statements(_AGEING),  # v9 (AGEING_MIGRATION): templates that age, bounded auto-added probes
    _statements(_DUPFACE),  # v10 (DUPFACE_MIGRATION): an enrolment's resemblance to other residents
]
VISITS_MIGRATION = 7  # the only number to change when merging with another branch's migration
assert MIGRATIONS[VISITS_MIGRATION - 1].__closure__[0].cell_contents is _VISITS  # type: ignore[index]
FALLBACKS_MIGRATION = 8  # the only number to change when merging with another branch's migration
assert MIGRATIONS[FALLBACKS_MIGRATION - 1].__closure__[0].cell_contents is _FALLBACKS  # type: ignore[index]
AGEING_MIGRATION = 9  # the only number to change when merging with another branch's migration
assert MIGRATIONS[AGEING_MIGRATION - 1].__closure__[0].cell_contents is _AGEING  # type: ignore[index]
DUPFACE_MIGRATION = 10  # the only number to change when merging with another branch's migration
assert MIGRATIONS[DUPFACE_MIGRATION - 1].__closure__[0].cell_contents is _DUPFACE  # type: ignore[index]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def check_not_newer(db: Database) -> int:
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreTooNew(version, SCHEMA_VERSION)
    return version


def migrate(db: Database, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target`; returns the resulting version."""
    version = check_not_newer(db)
    for number in range(version + 1, target + 1):
        with db.atomic():
            MIGRATIONS[number - 1](db)
            # user_version lives in the file header and is part of this transaction.
            db.execute(f"PRAGMA user_version = {number}")
    return schema_version(db)
