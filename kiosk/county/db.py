"""The county hub's database (SQLAlchemy 2): SQLite by default, PostgreSQL through the same URL.

Every change to a resident or a template set takes a fresh number from the `changes` table
(an autoincrement id on both dialects); terminals pull "everything with a version above my
cursor". Records pushed by terminals are keyed by their UUID, so a record is stored once
however often it arrives.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from sqlalchemy import text as sql
from sqlalchemy import (
    Boolean, Float, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text, create_engine, event, func, inspect,
    insert, select, update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

from kiosk import protocol as P
from kiosk.core.clock import Clock, default_clock, utc_iso

from . import atrest
from .keys import HubKeys
from kiosk.county.texts import text

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def now_iso(clock: Clock | None = None) -> str:
    return utc_iso((clock or default_clock()).utc_now())


class HubError(Exception):
    """`code` stable English, `message` plain Chinese, `status` the HTTP status to answer with."""

    def __init__(self, code: str, message: str, status: int = 400, detail: str = ""):
        super().__init__(f"{code}: {message} {detail}".strip())
        self.code, self.message, self.status, self.detail = code, message, status, detail


class Base(DeclarativeBase):
    pass


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    village: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sign_pub: Mapped[str] = mapped_column(String(64), unique=True)
    box_pub: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")
    registered_at: Mapped[str] = mapped_column(String(32))
    last_seen_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_push_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_bundle_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # device clock - hub clock (s), from the device_clock of its latest push (v2 terminals)
    clock_offset_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    clock_checked_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ProvisioningCode(Base):
    __tablename__ = "provisioning_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    village: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Nonce(Base):
    __tablename__ = "nonces"
    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[float] = mapped_column(Float, index=True)


class Change(Base):
    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[str] = mapped_column(String(32))


def _birth_month(context) -> int | None:
    """The birth month written in the ID number (characters 11-12), for the cycle rule's SQL."""
    rid = str(context.get_current_parameters().get("id_number") or "")
    return int(rid[10:12]) if len(rid) == 18 and rid[10:12].isdigit() else None


class Resident(Base):
    __tablename__ = "residents"
    # covering index for the status page's overdue count and the figures' per-village counts by
    # the county's cycle rule (kiosk.county.cycle; 300,000 residents: docs/benchmarks.md)
    __table_args__ = (Index("ix_residents_cycle", "birth_month", "certified_on", "data_comparison_on", "benefit_start",
                            "county_status", "removed", "village"),)
    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    village: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    categories: Mapped[str] = mapped_column(Text, default="[]")
    benefit_start: Mapped[str | None] = mapped_column(String(10), nullable=True)
    data_comparison_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    county_status: Mapped[str] = mapped_column(String(16), default="active")
    certified_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, index=True)
    updated_at: Mapped[str] = mapped_column(String(32))
    # v4: for home visits (上门认证), where the county has them (roster columns 住址, 联系电话, 联系人…)
    address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    contact_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # 1..12, from the ID number (kept so the cycle rule can be judged in SQL, kiosk.county.cycle)
    birth_month: Mapped[int | None] = mapped_column(SmallInteger, nullable=True, default=_birth_month)


CONTACT_COLUMNS = ("address", "phone", "contact_name", "contact_phone")


class TemplateSetRow(Base):
    __tablename__ = "template_sets"
    resident_id: Mapped[str] = mapped_column(String(18), ForeignKey("residents.id_number"), primary_key=True)
    backend: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    dtype: Mapped[str] = mapped_column(String(10))
    dim: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    nonce: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[str] = mapped_column(String(32))
    # v4: the terminal whose approved enrolment this set is (it keeps its own copy: not sent back
    # to it); None for a set enrolled at the county
    origin_device: Mapped[str | None] = mapped_column(String(40), nullable=True)


class CountyOperatorRow(Base):
    """A terminal staff account the county sends down (v4): PIN as the terminal's scrypt hash only.
    `village` None: every terminal of the county; else that village's terminals."""

    __tablename__ = "county_operators"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    village: Mapped[str | None] = mapped_column(String(100), nullable=True)
    pin_hash: Mapped[bytes] = mapped_column(LargeBinary)
    pin_salt: Mapped[bytes] = mapped_column(LargeBinary)
    pin_params: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    updated_at: Mapped[str] = mapped_column(String(32))


class Record(Base):
    """One record from a terminal. Keyed by (device, uuid): a uuid stored for one device never
    answers another. `clock_suspect` records count for no resident until `review` = confirmed."""

    __tablename__ = "records"
    __table_args__ = (Index("ix_records_device_seq", "device_id", "seq"),
                      Index("ix_records_day", "occurred_day", "kind", "village", "verdict"),
                      Index("ix_records_resident_status", "resident_id", "verdict", "occurred_day"))
    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the device's audit sequence number
    resident_id: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    village: Mapped[str | None] = mapped_column(String(100), nullable=True)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(8), nullable=True)
    occurred_at: Mapped[str] = mapped_column(String(40))
    occurred_day: Mapped[str] = mapped_column(String(10), index=True)  # China local date
    received_at: Mapped[str] = mapped_column(String(32))  # the hub's clock: the authoritative time
    via: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)
    clock_suspect: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    suspect_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    review: Mapped[str | None] = mapped_column(String(16), nullable=True)  # confirmed | rejected
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ImportedBundle(Base):
    __tablename__ = "imported_bundles"
    bundle_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[str] = mapped_column(String(32))
    stored: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)


class HubSetting(Base):
    __tablename__ = "hub_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StaffUser(Base):
    """A county staff account (kiosk-county user add). Password: scrypt (kiosk.county.auth)."""

    __tablename__ = "staff_users"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | operator | viewer
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(32))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class StaffSession(Base):
    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32), index=True)


class StaffAudit(Base):
    """Who viewed or changed what at the hub (pages, API, review decisions, user changes)."""

    __tablename__ = "staff_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32), index=True)
    user: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class FallbackReview(Base):
    """County staff's decision on a fallback record (certification without a face): who, when,
    why. A fallback with no row here is pending review; `version` (a Change id) is the cursor the
    signing device pulls decisions by (/fallback-decisions)."""

    __tablename__ = "fallback_reviews"
    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))
    certified_on: Mapped[str | None] = mapped_column(String(10), nullable=True)
    version: Mapped[int] = mapped_column(Integer, index=True)


class DeviceHealth(Base):
    """The latest heartbeat of each terminal (issue 14): self-test states and numbers, nothing personal."""

    __tablename__ = "device_health"
    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    received_at: Mapped[str] = mapped_column(String(32))  # the hub's clock
    sent_at: Mapped[str] = mapped_column(String(40))  # the terminal's clock
    app_version: Mapped[str] = mapped_column(String(40))
    checks: Mapped[str] = mapped_column(Text, default="{}")  # JSON: check -> ok | warn | broken | skipped
    selftest_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    maintenance: Mapped[bool] = mapped_column(Boolean, default=False)
    disk_free_mb: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_certification_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    queue_length: Mapped[int] = mapped_column(Integer, default=0)


HEARTBEAT_SILENT_MIN = 30  # default: a kiosk with no heartbeat for longer is flagged silent (setting heartbeat_silent_min)


@dataclass
class ImportResult:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[str] | None = None


def _local_day(clock: Clock, iso: str) -> str:
    """The service-area day (as the county reads it) of a UTC timestamp."""
    try:
        return clock.local_date(iso).isoformat()
    except ValueError:
        return iso[:10]


class HubDB:
    """Open with a SQLAlchemy URL (`sqlite:///county.db`, `postgresql+psycopg://...`)."""

    def __init__(self, url: str, keys: HubKeys, clock: Clock | None = None, key_path: Path | str | None = None):
        self.url = url
        self.keys = keys
        self.clock = clock or default_clock()  # the service area's clock: days on the status page
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.path = atrest.sqlite_file(url)  # a SQLite file: encrypted whole with SQLCipher
        self.at_rest = "server" if self.path is None else atrest.prepare(self.path, keys.database_key, key_path)
        if self.path is not None:
            self.engine = create_engine(atrest.engine_url(self.path, keys.database_key), poolclass=QueuePool, **kwargs)
        else:
            self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine, "connect")
            def _pragmas(conn, _record):
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                if self.path is not None:
                    # SQLCipher decrypts (and checks) a page on each cache miss and cannot use the
                    # OS's mmap: a 32 MB page cache per connection keeps the status page's indexes
                    # decrypted in memory (docs/benchmarks.md: figures before/after encryption)
                    cur.execute(f"PRAGMA cache_size=-{atrest.CACHE_KIB}")
                cur.close()
        _migrate(self.engine)
        Base.metadata.create_all(self.engine)
        for table in Base.metadata.tables.values():  # indexes added since a table was made
            for ix in table.indexes:
                ix.create(self.engine, checkfirst=True)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ settings
    def get_setting(self, key: str, default: Any = None) -> Any:
        with self.Session() as s:
            row = s.get(HubSetting, key)
            return json.loads(row.value) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        with self.Session.begin() as s:
            s.merge(HubSetting(key=key, value=json.dumps(value, ensure_ascii=False)))

    @property
    def county(self) -> str:
        return self.get_setting("county_name", text("db_county_default"))

    # ------------------------------------------------------------------ devices
    def provision(self, village: str | None, days: int = 7) -> str:
        code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
        now = self.clock.utc_now()
        with self.Session.begin() as s:
            s.add(ProvisioningCode(code_hash=_hash_code(code), village=village, created_at=now_iso(self.clock),
                                   expires_at=(now + timedelta(days=days)).isoformat(timespec="milliseconds")))
        return code

    def register(self, req: P.RegisterRequest) -> P.RegisterResponse:
        if not P.verify_signature(P.verify_key_from(req.sign_pub), req.proof,
                                  P.register_proof_message(req.code, req.sign_pub, req.box_pub)):
            raise HubError("bad_signature", text("db_register_bad_signature"), 401)
        P.box_public_from(req.box_pub)
        with self.Session.begin() as s:
            pc = s.get(ProvisioningCode, _hash_code(req.code), with_for_update=True)
            if pc is None:
                raise HubError("bad_code", text("db_bad_code"), 403)
            if pc.used_at is not None:
                raise HubError("code_used", text("db_code_used"), 403)
            if pc.expires_at < now_iso(self.clock):
                raise HubError("code_expired", text("db_code_expired"), 403)
            if s.scalar(select(Device).where(Device.sign_pub == req.sign_pub)) is not None:
                raise HubError("key_in_use", text("db_key_in_use"), 409)
            device_id = "dev-" + secrets.token_hex(6)
            s.add(Device(id=device_id, name=req.name, village=pc.village, sign_pub=req.sign_pub,
                         box_pub=req.box_pub, registered_at=now_iso(self.clock)))
            pc.used_at, pc.device_id = now_iso(self.clock), device_id
        return P.RegisterResponse(device_id=device_id, village=pc.village, county=self.county,
                                  hub_sign_pub=self.keys.sign_pub, hub_box_pub=self.keys.box_pub,
                                  server_time=self.clock.utc_now().timestamp())

    def device(self, device_id: str) -> Device | None:
        with self.Session() as s:
            return s.get(Device, device_id)

    def devices(self) -> list[Device]:
        with self.Session() as s:
            return list(s.scalars(select(Device).order_by(Device.village, Device.id)))

    # ------------------------------------------------------------------ heartbeat (issue 14)
    def record_heartbeat(self, device_id: str, hb: P.Heartbeat) -> P.HeartbeatAck:
        """Keep the latest heartbeat of a device (replacing the one before)."""
        with self.Session.begin() as s:
            s.merge(DeviceHealth(device_id=device_id, received_at=now_iso(self.clock), sent_at=hb.sent_at,
                                 app_version=hb.app_version, checks=json.dumps(dict(hb.checks)),
                                 selftest_at=hb.selftest_at, paused=hb.paused, maintenance=hb.maintenance,
                                 disk_free_mb=hb.disk_free_mb, last_certification_at=hb.last_certification_at,
                                 queue_length=hb.queue_length))
        return P.HeartbeatAck(server_time=self.clock.utc_now().timestamp())

    @property
    def heartbeat_silent_min(self) -> float:
        return float(self.get_setting("heartbeat_silent_min", HEARTBEAT_SILENT_MIN))

    def device_health(self) -> dict[str, dict]:
        """device id -> its latest heartbeat as a dict, with `silent` (none for heartbeat_silent_min
        minutes, or never while the device is active) and `minutes_ago`. Devices that never sent one
        are included (silent, minutes_ago None)."""
        now = self.clock.utc_now()
        limit = self.heartbeat_silent_min
        with self.Session() as s:
            rows = {h.device_id: h for h in s.scalars(select(DeviceHealth))}
            devices = list(s.scalars(select(Device)))
        out: dict[str, dict] = {}
        for d in devices:
            h = rows.get(d.id)
            if h is None:
                out[d.id] = {"device_id": d.id, "silent": d.status == "active", "minutes_ago": None, "checks": {}}
                continue
            ago = (now - datetime.fromisoformat(h.received_at)).total_seconds() / 60
            out[d.id] = {"device_id": d.id, "received_at": h.received_at, "sent_at": h.sent_at,
                         "app_version": h.app_version, "checks": json.loads(h.checks or "{}"),
                         "selftest_at": h.selftest_at, "paused": h.paused, "maintenance": h.maintenance,
                         "disk_free_mb": h.disk_free_mb, "last_certification_at": h.last_certification_at,
                         "queue_length": h.queue_length, "minutes_ago": round(ago, 1),
                         "silent": d.status == "active" and ago > limit}
        return out

    def revoke(self, device_id: str) -> bool:
        with self.Session.begin() as s:
            d = s.get(Device, device_id)
            if d is None:
                return False
            d.status = "revoked"
            return True

    def authenticate(self, device_id: str, ts: str, nonce: str, signature: str, message: bytes,
                     now: float) -> Device:
        """Signature, revocation, clock window and one-time nonce; raises HubError."""
        d = self.device(device_id)
        if d is None:
            raise HubError("unknown_device", text("db_unknown_device"), 401)
        if d.status != "active":
            raise HubError("device_revoked", text("db_device_revoked"), 403)
        if not P.verify_signature(P.verify_key_from(d.sign_pub), signature, message):
            raise HubError("bad_signature", text("db_request_bad_signature"), 401)
        try:
            t = float(ts)
        except ValueError:
            raise HubError("bad_timestamp", text("db_bad_timestamp"), 400) from None
        if abs(now - t) > P.CLOCK_WINDOW_S:
            raise HubError("clock_skew", text("db_clock_skew"), 401,
                           detail=str(now))
        if not (8 <= len(nonce) <= 64):
            raise HubError("bad_nonce", text("db_bad_nonce"), 400)
        try:
            with self.Session.begin() as s:
                s.add(Nonce(device_id=device_id, nonce=nonce, ts=t))
                dev = s.get(Device, device_id)
                dev.last_seen_at = now_iso(self.clock)
                s.execute(Nonce.__table__.delete().where(Nonce.ts < now - 2 * P.CLOCK_WINDOW_S))
        except IntegrityError:
            raise HubError("replayed", text("db_replayed"), 409) from None
        return d

    # ------------------------------------------------------------------ records
    @property
    def clock_margin_s(self) -> float:
        return float(self.get_setting("clock_margin_s", P.CLOCK_MARGIN_S))

    def store_records(self, device_id: str, records: list[P.PushRecord], via: str,
                      device_clock: float | None = None, sent_at: float | None = None) -> list[P.Ack]:
        """Store each record once per device; an IntegrityError from a concurrent copy is retried
        as duplicates. `device_clock`: the device's own clock at send (v2 push); `sent_at`: when a
        bundle says it was made (device clock), to catch a device clock running ahead."""
        for attempt in range(3):
            try:
                return self._store_records(device_id, records, via, device_clock, sent_at)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _suspect(at: str, now: float, offset: float | None, sent_at: float | None, margin: float) -> str | None:
        """Why a record's device time cannot be trusted, or None."""
        try:
            t = datetime.fromisoformat(at).timestamp()
        except ValueError:
            return "unreadable time"
        if t > now + margin:
            return f"dated {round((t - now) / 3600)} h after the hub's receipt time"
        if offset is not None and abs(offset) > margin:
            return f"device clock {round(offset / 3600)} h off the hub's at receipt"
        if offset is not None and t - offset > now + margin:
            return "dated in the future after correcting the device's clock offset"
        if sent_at is not None and (sent_at > now + margin or t > sent_at + margin):
            return "bundle or record dated after the hub's receipt time"
        return None

    def _store_records(self, device_id: str, records: list[P.PushRecord], via: str,
                       device_clock: float | None, sent_at: float | None) -> list[P.Ack]:
        acks: list[P.Ack] = []
        now = now_iso(self.clock)
        now_ts = self.clock.timestamp()
        today = self.clock.today().isoformat()
        margin = self.clock_margin_s
        with self.Session.begin() as s:
            dev = s.get(Device, device_id)
            if device_clock is not None and dev is not None:
                dev.clock_offset_s, dev.clock_checked_at = device_clock - now_ts, now
            offset = dev.clock_offset_s if dev is not None else None
            uuids = [r.uuid for r in records]
            existing: set[str] = set()
            for i in range(0, len(uuids), 500):
                existing |= set(s.scalars(select(Record.uuid).where(Record.device_id == device_id)
                                          .where(Record.uuid.in_(uuids[i:i + 500]))))
            rids = {P.normalize_id(str(r.payload.get("resident_id", ""))) for r in records
                    if r.kind in ("certification", "fallback", "enrolment")}
            share = self.share_templates
            roster: dict[str, tuple[str | None, bool]] = {}
            certified_on: dict[str, str | None] = {}
            rid_list = sorted(rids)
            for i in range(0, len(rid_list), 500):
                for rid, village, removed, c_on in s.execute(
                        select(Resident.id_number, Resident.village, Resident.removed, Resident.certified_on)
                        .where(Resident.id_number.in_(rid_list[i:i + 500]))):
                    roster[rid] = (village, removed)
                    certified_on[rid] = c_on
            seen: set[str] = set()
            certified: dict[str, str] = {}
            rows = []
            for rec in records:
                if rec.uuid in existing or rec.uuid in seen:
                    acks.append(P.Ack(uuid=rec.uuid, status="duplicate"))
                    continue
                try:
                    parsed = P.validate_record(rec, self.clock.today())
                    if isinstance(parsed, (P.CertificationPayload, P.FallbackPayload, P.EnrolmentPayload)):
                        self._authorise(dev, device_id, parsed, roster)
                    vectors = self._open_template(device_id, rec, parsed) if rec.template is not None else None
                except P.ProtocolError as e:
                    acks.append(P.Ack(uuid=rec.uuid, status="rejected", code=e.code, message=e.message))
                    continue
                seen.add(rec.uuid)
                stored_payload = dict(rec.payload)
                if isinstance(parsed, P.EnrolmentPayload):
                    # what became of the template: kept and shared, not sent, or sent while the county does not share
                    stored_payload["hub_template"] = (None if vectors is None else "stored" if share else "discarded")
                    if vectors is not None and share:
                        self._set_templates(s, P.normalize_id(parsed.resident_id), parsed.backend, vectors,
                                            origin_device=device_id)
                row = dict(uuid=rec.uuid, device_id=device_id, kind=rec.kind, received_at=now, via=via,
                           village=dev.village if dev else None, seq=None, review=None,
                           payload=json.dumps(stored_payload, ensure_ascii=False, sort_keys=True))
                if isinstance(parsed, P.CertificationPayload):
                    rid = P.normalize_id(parsed.resident_id)
                    row.update(resident_id=rid, category=parsed.category, verdict=parsed.verdict,
                               occurred_at=parsed.finished_at, occurred_day=_local_day(self.clock, parsed.finished_at))
                elif isinstance(parsed, P.EnrolmentPayload):
                    row.update(resident_id=P.normalize_id(parsed.resident_id), category=None, verdict=None,
                               occurred_at=parsed.reviewed_at, occurred_day=_local_day(self.clock, parsed.reviewed_at))
                elif isinstance(parsed, P.FallbackPayload):
                    # Never a pass: no verdict; held for county review (fallback_reviews) whatever its time.
                    row.update(resident_id=P.normalize_id(parsed.resident_id), category=parsed.category, verdict=None,
                               occurred_at=parsed.created_at, occurred_day=_local_day(self.clock, parsed.created_at))
                else:
                    row.update(resident_id=None, category=None, verdict=None, occurred_at=parsed.at, seq=parsed.seq,
                               occurred_day=_local_day(self.clock, parsed.at))
                reason = self._suspect(row["occurred_at"], now_ts, offset, sent_at, margin)
                # A fallback is reviewed anyway: its doubtful time is shown there, not in /review.
                row.update(clock_suspect=reason is not None and rec.kind in ("certification", "audit"),
                           suspect_reason=reason)
                if reason is None and row["verdict"] == "pass" and row["occurred_day"] <= today:
                    rid, day = row["resident_id"], row["occurred_day"]
                    certified[rid] = max(certified.get(rid, day), day)
                rows.append(row)
                if reason is not None and rec.kind == "certification":
                    acks.append(P.Ack(uuid=rec.uuid, status="stored", code=P.CLOCK_SUSPECT[0],
                                      message=P.CLOCK_SUSPECT[1]))
                else:
                    acks.append(P.Ack(uuid=rec.uuid, status="stored"))
            if rows:
                s.execute(Record.__table__.insert(), rows)
            # A trusted pass can only move certified_on later: one new roster version each, in bulk.
            later = [(rid, day) for rid, day in sorted(certified.items())
                     if rid in certified_on and (certified_on[rid] is None or certified_on[rid] < day)]
            if later:
                versions = s.execute(insert(Change).returning(Change.id, sort_by_parameter_order=True),
                                     [{"kind": "roster", "key": rid, "at": now} for rid, _ in later]).scalars().all()
                s.execute(update(Resident), [{"id_number": rid, "certified_on": day, "version": v, "updated_at": now}
                                             for (rid, day), v in zip(later, versions)])
            if dev is not None and via == "network":
                dev.last_push_at = now
        return acks

    def _open_template(self, device_id: str, rec: P.PushRecord, parsed: P.Payload) -> list[np.ndarray]:
        """The approved enrolment's vectors, sealed by the terminal for this hub (v4)."""
        t = rec.template
        assert t is not None and isinstance(parsed, P.EnrolmentPayload)
        raw = P.open_sealed(self.keys.box, t.sealed,
                            P.template_up_aad(device_id, rec.uuid, P.normalize_id(parsed.resident_id), t.backend))
        if len(raw) != t.count * t.dim * np.dtype(t.dtype).itemsize:
            raise P.ProtocolError("bad_template", text("db_template_incomplete"))
        arr = np.frombuffer(raw, dtype=np.dtype(t.dtype).newbyteorder("<")).reshape(t.count, t.dim)
        if not np.all(np.isfinite(arr)):
            raise P.ProtocolError("bad_template", text("db_template_incomplete"))
        return [np.asarray(v, dtype=np.float64) for v in arr]

    @staticmethod
    def _authorise(dev: Device | None, device_id: str,
                   rec: P.CertificationPayload | P.FallbackPayload | P.EnrolmentPayload,
                   roster: dict[str, tuple[str | None, bool]]) -> None:
        """The signer may only report its own certifications (and fallbacks) of residents in its roster scope."""
        def refuse(code: str):
            raise P.ProtocolError(code, P.REFUSALS[code])

        if rec.device_id is not None and rec.device_id != device_id:
            refuse("wrong_device")
        entry = roster.get(P.normalize_id(rec.resident_id))
        if entry is None:
            refuse("not_on_roster")
        village, removed = entry
        if removed:
            refuse("removed_from_roster")
        if dev is not None and dev.village and village != dev.village:
            refuse("other_village")

    def _refresh_certified(self, s: Session, rid: str, now: str) -> None:
        """certified_on = the latest pass dated no later than the hub's today, from trusted records
        (not clock_suspect, or confirmed by county staff; never a rejected one), or an approved fallback."""
        today = self.clock.today().isoformat()
        best = s.scalar(select(func.max(Record.occurred_day))
                        .where(Record.resident_id == rid, Record.occurred_day <= today)
                        .where(((Record.kind == "certification") & (Record.verdict == "pass")
                                & ((Record.clock_suspect.is_(False) & Record.review.is_(None))
                                   | (Record.review == "confirmed")))
                               | ((Record.kind == "fallback") & (Record.review == "approved"))))
        r = s.get(Resident, rid)
        if r is not None and r.certified_on != best:
            r.certified_on = best
            r.version = self._bump(s, "roster", rid)
            r.updated_at = now

    # ------------------------------------------------------------------ staff accounts
    def add_user(self, name: str, role: str, password: str, replace: bool = False) -> None:
        from .auth import ROLES, check_password_rules, hash_password

        name = name.strip()
        if not (1 <= len(name) <= 64) or any(c.isspace() for c in name):
            raise HubError("bad_user_name", text("db_bad_user_name"), 400)
        if role not in ROLES:
            raise HubError("bad_role", text("db_bad_role"), 400)
        problem = check_password_rules(password)
        if problem:
            raise HubError("weak_password", problem, 400)
        with self.Session.begin() as s:
            u = s.get(StaffUser, name)
            if u is not None and not replace:
                raise HubError("user_exists", text("db_user_exists", name=name), 409)
            if u is None:
                s.add(StaffUser(name=name, role=role, password_hash=hash_password(password),
                                created_at=now_iso(self.clock)))
            else:
                u.role, u.password_hash, u.disabled = role, hash_password(password), False
                s.execute(StaffSession.__table__.delete().where(StaffSession.user == name))

    def users(self) -> list[StaffUser]:
        with self.Session() as s:
            return list(s.scalars(select(StaffUser).order_by(StaffUser.name)))

    def disable_user(self, name: str) -> bool:
        with self.Session.begin() as s:
            u = s.get(StaffUser, name)
            if u is None:
                return False
            u.disabled = True
            s.execute(StaffSession.__table__.delete().where(StaffSession.user == name))
            return True

    def check_login(self, name: str, password: str) -> StaffUser | None:
        from .auth import hash_password, verify_password

        with self.Session() as s:
            u = s.get(StaffUser, name.strip())
        if u is None or u.disabled:
            verify_password(password, hash_password("x" * 12))  # same work: no user-name oracle by timing
            return None
        return u if verify_password(password, u.password_hash) else None

    def open_session(self, user: str, hours: float | None = None) -> tuple[str, str]:
        """A new session: (token for the cookie, CSRF token for forms). Stored hashed."""
        from .auth import SESSION_HOURS, new_token, token_hash

        token, csrf = new_token(), new_token()
        now = self.clock.utc_now()
        with self.Session.begin() as s:
            s.add(StaffSession(token_hash=token_hash(token), user=user, csrf=csrf, created_at=utc_iso(now),
                               expires_at=utc_iso(now + timedelta(hours=hours or SESSION_HOURS))))
            s.execute(StaffSession.__table__.delete().where(StaffSession.expires_at < utc_iso(now)))
        return token, csrf

    def session(self, token: str | None) -> tuple[StaffUser, str] | None:
        """(user, csrf) for a live session token, else None."""
        from .auth import token_hash

        if not token:
            return None
        with self.Session() as s:
            ss = s.get(StaffSession, token_hash(token))
            if ss is None or ss.expires_at < now_iso(self.clock):
                return None
            u = s.get(StaffUser, ss.user)
            if u is None or u.disabled:
                return None
            return u, ss.csrf

    def close_session(self, token: str) -> None:
        from .auth import token_hash

        with self.Session.begin() as s:
            s.execute(StaffSession.__table__.delete().where(StaffSession.token_hash == token_hash(token)))

    # ------------------------------------------------------------------ staff audit
    def log_action(self, user: str, action: str, target: str = "", ip: str | None = None) -> None:
        with self.Session.begin() as s:
            s.add(StaffAudit(at=now_iso(self.clock), user=user, action=action, target=target[:300], ip=ip))

    def staff_audit(self, limit: int = 200) -> list[StaffAudit]:
        with self.Session() as s:
            return list(s.scalars(select(StaffAudit).order_by(StaffAudit.id.desc()).limit(limit)))

    # ------------------------------------------------------------------ clock review
    def suspect_records(self, include_reviewed: bool = False, limit: int = 500) -> list[Record]:
        with self.Session() as s:
            q = select(Record).where(Record.clock_suspect.is_(True))
            if not include_reviewed:
                q = q.where(Record.review.is_(None))
            return list(s.scalars(q.order_by(Record.received_at, Record.device_id, Record.uuid).limit(limit)))

    def review_record(self, device_id: str, uuid: str, decision: str, by: str) -> Record:
        """County staff confirm (the date is right: it counts) or reject (it never counts) a record."""
        if decision not in ("confirmed", "rejected"):
            raise HubError("bad_decision", text("db_bad_decision"), 400)
        now = now_iso(self.clock)
        with self.Session.begin() as s:
            r = s.get(Record, (device_id, uuid))
            if r is None:
                raise HubError("unknown_record", text("db_unknown_record"), 404)
            r.review, r.reviewed_by, r.reviewed_at = decision, by, now
            if r.resident_id:
                self._refresh_certified(s, r.resident_id, now)
            return r

    # ------------------------------------------------------------------ fallbacks (certification without a face)
    def fallback_records(self, pending_only: bool = False, limit: int = 500) -> list[tuple[Record, FallbackReview | None]]:
        """Fallback records with their decision (None: pending review), oldest first."""
        with self.Session() as s:
            q = (select(Record, FallbackReview).where(Record.kind == "fallback")
                 .outerjoin(FallbackReview, (FallbackReview.device_id == Record.device_id)
                            & (FallbackReview.uuid == Record.uuid)))
            if pending_only:
                q = q.where(FallbackReview.uuid.is_(None))
            return [(r, d) for r, d in s.execute(q.order_by(Record.received_at, Record.device_id, Record.uuid)
                                                  .limit(limit)).all()]

    def decide_fallback(self, device_id: str, uuid: str, decision: str, by: str,
                        reason: str | None = None) -> FallbackReview:
        """Approve (the resident is certified on the fallback's date) or reject (with a reason) once.
        The caller audits who decided (log_action)."""
        if decision not in ("approved", "rejected"):
            raise HubError("bad_decision", text("db_bad_fallback_decision"), 400)
        if decision == "rejected" and not (reason or "").strip():
            raise HubError("reason_required", text("db_reason_required"), 400)
        now = now_iso(self.clock)
        with self.Session.begin() as s:
            r = s.get(Record, (device_id, uuid))
            if r is None or r.kind != "fallback":
                raise HubError("unknown_record", text("db_unknown_fallback"), 404)
            if s.get(FallbackReview, (device_id, uuid)) is not None:
                raise HubError("already_decided", text("db_already_decided"), 409)
            d = FallbackReview(device_id=device_id, uuid=uuid, decision=decision, reason=(reason or "").strip() or None,
                               by=by, at=now, certified_on=r.occurred_day if decision == "approved" else None,
                               version=self._bump(s, "fallback", f"{device_id}:{uuid}"))
            s.add(d)
            r.review, r.reviewed_by, r.reviewed_at = decision, by, now
            s.flush()
            if decision == "approved" and r.resident_id:
                self._refresh_certified(s, r.resident_id, now)
            s.expunge(d)
            return d

    def fallback_decisions(self, device: Device, since: int, limit: int = P.MAX_PULL) -> P.FallbackDecisionPage:
        """Decisions on this device's fallbacks after the cursor."""
        limit = max(1, min(limit, P.MAX_PULL))
        with self.Session() as s:
            rows = list(s.scalars(select(FallbackReview).where(FallbackReview.device_id == device.id,
                                                               FallbackReview.version > since)
                                  .order_by(FallbackReview.version).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return P.FallbackDecisionPage(
            decisions=[P.FallbackDecision(uuid=d.uuid, decision=d.decision, reason=d.reason, by=d.by, at=d.at,  # type: ignore[arg-type]
                                          certified_on=d.certified_on, version=d.version) for d in rows],
            cursor=rows[-1].version if rows else since, more=more)

    # ------------------------------------------------------------------ enrolments at terminals (v4)
    def enrolment_records(self, resident_id: str | None = None, limit: int = 500) -> list[tuple[Record, dict]]:
        """Enrolments reviewed at terminals (who enrolled, who approved or rejected), newest first."""
        with self.Session() as s:
            q = select(Record).where(Record.kind == "enrolment")
            if resident_id:
                q = q.where(Record.resident_id == P.normalize_id(resident_id))
            rows = list(s.scalars(q.order_by(Record.occurred_at.desc(), Record.device_id, Record.uuid).limit(limit)))
        return [(r, json.loads(r.payload)) for r in rows]

    # ------------------------------------------------------------------ operators sent down (v4)
    def set_operator(self, name: str, role: str, pin: str | None = None, village: str | None = None,
                     active: bool = True) -> int:
        """Add or change a terminal operator the county sends down; the PIN is hashed here (never kept)."""
        name = name.strip()
        if not (1 <= len(name) <= 64) or any(c.isspace() for c in name):
            raise HubError("bad_operator_name", text("db_bad_operator_name"), 400)
        if role not in P.OPERATOR_ROLES:
            raise HubError("bad_role", text("db_bad_operator_role"), 400)
        with self.Session.begin() as s:
            row = s.get(CountyOperatorRow, name)
            if pin is not None:
                if not (pin.isdigit() and len(pin) >= 6):
                    raise HubError("weak_pin", text("db_weak_pin"), 400)
                digest, salt, params = P.hash_operator_pin(pin)
            elif row is None:
                raise HubError("pin_required", text("db_pin_required"), 400)
            else:
                digest, salt, params = row.pin_hash, row.pin_salt, row.pin_params
            version = self._bump(s, "operator", name)
            values = dict(role=role, village=village, pin_hash=digest, pin_salt=salt, pin_params=params,
                          active=active, version=version, updated_at=now_iso(self.clock))
            if row is None:
                s.add(CountyOperatorRow(name=name, **values))
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            return version

    def county_operators(self) -> list[CountyOperatorRow]:
        with self.Session() as s:
            return list(s.scalars(select(CountyOperatorRow).order_by(CountyOperatorRow.name)))

    def operator_page(self, device: Device, since: int, limit: int = P.MAX_PULL) -> P.OperatorPage:
        """Operators for this device (all-county ones and its village's) changed after the cursor."""
        limit = max(1, min(limit, P.MAX_PULL))
        with self.Session() as s:
            q = select(CountyOperatorRow).where(CountyOperatorRow.version > since)
            q = q.where(CountyOperatorRow.village.is_(None) | (CountyOperatorRow.village == device.village))
            rows = list(s.scalars(q.order_by(CountyOperatorRow.version).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return P.OperatorPage(operators=[P.CountyOperator(
            name=r.name, role=r.role, pin_hash=P.b64e(r.pin_hash), pin_salt=P.b64e(r.pin_salt),  # type: ignore[arg-type]
            pin_params=r.pin_params, active=r.active, version=r.version) for r in rows],
            cursor=rows[-1].version if rows else since, more=more)

    def all_sequence_gaps(self) -> dict[str, dict]:
        """sequence_gaps for every device that sent audit entries, in one grouped query (+ one per
        device that has gaps)."""
        with self.Session() as s:
            rows = s.execute(select(Record.device_id, func.max(Record.seq), func.count(func.distinct(Record.seq)))
                             .where(Record.seq.is_not(None)).group_by(Record.device_id)).all()
        out = {}
        for device_id, last, n in rows:
            out[device_id] = (self.sequence_gaps(device_id) if n < last
                              else {"received": n, "last": last, "missing": 0, "ranges": []})
        return out

    def sequence_gaps(self, device_id: str, limit: int = 20) -> dict:
        """The device's audit sequence numbers the hub has not received: {received, last, missing,
        ranges: [[first, last], ...]} (ranges capped at `limit`)."""
        with self.Session() as s:
            last, n = s.execute(select(func.max(Record.seq), func.count(func.distinct(Record.seq)))
                                .where(Record.device_id == device_id, Record.seq.is_not(None))).one()
            ranges: list[list[int]] = []
            if last and n < last:
                prev = 0
                for (seq,) in s.execute(select(Record.seq).where(Record.device_id == device_id, Record.seq.is_not(None))
                                        .distinct().order_by(Record.seq)):
                    if seq > prev + 1 and len(ranges) < limit:
                        ranges.append([prev + 1, seq - 1])
                    prev = seq
        return {"received": n or 0, "last": last or 0, "missing": (last or 0) - (n or 0), "ranges": ranges}

    def record_uuids(self, device_id: str) -> list[str]:
        with self.Session() as s:
            return list(s.scalars(select(Record.uuid).where(Record.device_id == device_id)))

    def certification_uuids(self, device_id: str) -> list[list[str]]:
        """[record UUID, the attempt's own UUID in its payload] of a device's certifications
        (`kiosk-county check --device`: the soak benchmark reconciles with it)."""
        with self.Session() as s:
            rows = s.execute(select(Record.uuid, Record.payload).where(Record.device_id == device_id,
                                                                        Record.kind == "certification")).all()
        return [[u, json.loads(p).get("uuid")] for u, p in rows]

    def count_residents(self) -> int:
        with self.Session() as s:
            return s.scalar(select(func.count()).select_from(Resident))

    def count_records(self, device_id: str | None = None, kind: str | None = None) -> int:
        with self.Session() as s:
            q = select(func.count()).select_from(Record)
            if device_id:
                q = q.where(Record.device_id == device_id)
            if kind:
                q = q.where(Record.kind == kind)
            return s.scalar(q)

    # ------------------------------------------------------------------ roster
    def _bump(self, s: Session, kind: str, key: str) -> int:
        ch = Change(kind=kind, key=key, at=now_iso(self.clock))
        s.add(ch)
        s.flush()
        return ch.id

    def upsert_residents(self, entries: Iterable[dict]) -> tuple[int, int]:
        """entries: dicts with id_number, name, village, categories, benefit_start,
        data_comparison_on, county_status, removed. Returns (changed, unchanged)."""
        changed = unchanged = 0
        with self.Session.begin() as s:
            for e in entries:
                rid = e["id_number"]
                fields = dict(
                    name=e["name"], village=e.get("village"),
                    categories=json.dumps(sorted(e.get("categories") or ["pension"])),
                    benefit_start=e.get("benefit_start"), data_comparison_on=e.get("data_comparison_on"),
                    county_status=e.get("county_status") or "active", removed=bool(e.get("removed", False)),
                    **{k: (e.get(k) or None) for k in CONTACT_COLUMNS},
                )
                r = s.get(Resident, rid)
                if r is not None and all(getattr(r, k) == v for k, v in fields.items()):
                    unchanged += 1
                    continue
                version = self._bump(s, "roster", rid)
                if r is None:
                    s.add(Resident(id_number=rid, version=version, updated_at=now_iso(self.clock), **fields))
                else:
                    for k, v in fields.items():
                        setattr(r, k, v)
                    r.version, r.updated_at = version, now_iso(self.clock)
                changed += 1
        return changed, unchanged

    def residents(self) -> list[Resident]:
        with self.Session() as s:
            return list(s.scalars(select(Resident).order_by(Resident.village, Resident.id_number)))

    def _device_filter(self, q, device: Device):
        if device.village:
            q = q.where(Resident.village == device.village)
        return q

    def roster_page(self, device: Device, since: int, limit: int = P.MAX_PULL) -> P.RosterPage:
        limit = max(1, min(limit, P.MAX_PULL))
        with self.Session() as s:
            q = self._device_filter(select(Resident).where(Resident.version > since), device)
            rows = list(s.scalars(q.order_by(Resident.version).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        entries = [P.RosterEntry(
            id_number=r.id_number, name=r.name, village=r.village, categories=json.loads(r.categories),
            benefit_start=r.benefit_start, data_comparison_on=r.data_comparison_on,
            county_status=r.county_status, certified_on=r.certified_on, removed=r.removed, version=r.version,
            **({k: getattr(r, k) for k in CONTACT_COLUMNS} if not r.removed else {}),
        ) for r in rows]
        cursor = rows[-1].version if rows else since
        return P.RosterPage(residents=entries, cursor=cursor, more=more, policy=self.get_setting("cycle_policy"),
                            share_templates=self.share_templates)

    @property
    def share_templates(self) -> bool:
        """The county's policy: templates enrolled at one terminal go to its other terminals (default on)."""
        return bool(self.get_setting("share_templates", P.SHARE_TEMPLATES_DEFAULT))

    # ------------------------------------------------------------------ templates
    def set_templates(self, resident_id: str, backend: str, vectors: list[np.ndarray]) -> int:
        """Replace a resident's county templates for one backend (encrypted at rest)."""
        with self.Session.begin() as s:
            return self._set_templates(s, resident_id, backend, vectors)

    def _set_templates(self, s: Session, resident_id: str, backend: str, vectors: list[np.ndarray],
                       origin_device: str | None = None) -> int:
        if s.get(Resident, resident_id) is None:
            raise HubError("unknown_resident", text("db_unknown_resident"), 404, resident_id)
        row = s.get(TemplateSetRow, (resident_id, backend))
        version = self._bump(s, "template", f"{resident_id}|{backend}")
        if vectors:
            arr = np.stack([np.asarray(v, dtype="<f8") for v in vectors])
            aad = f"hub-template|{resident_id}|{backend}"
            nonce, ct = self.keys.encrypt_at_rest(arr.tobytes(), aad)
            values = dict(dtype="float64", dim=int(arr.shape[1]), count=int(arr.shape[0]), nonce=nonce,
                          ciphertext=ct)
        else:
            values = dict(dtype="float64", dim=0, count=0, nonce=None, ciphertext=None)
        if row is None:
            s.add(TemplateSetRow(resident_id=resident_id, backend=backend, version=version,
                                 updated_at=now_iso(self.clock), origin_device=origin_device, **values))
        else:
            for k, v in values.items():
                setattr(row, k, v)
            row.version, row.updated_at, row.origin_device = version, now_iso(self.clock), origin_device
        return version

    def template_page(self, device: Device, since: int, limit: int = 500) -> P.TemplatePage:
        limit = max(1, min(limit, 500))
        with self.Session() as s:
            q = select(TemplateSetRow).join(Resident, Resident.id_number == TemplateSetRow.resident_id)
            q = self._device_filter(q.where(TemplateSetRow.version > since), device)
            # the enrolling terminal keeps its own approved set: not sent back to it
            q = q.where((TemplateSetRow.origin_device.is_(None)) | (TemplateSetRow.origin_device != device.id))
            rows = list(s.scalars(q.order_by(TemplateSetRow.version).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        out = []
        for r in rows:
            sealed = None
            if r.ciphertext is not None:
                plain = self.keys.decrypt_at_rest(r.nonce, r.ciphertext, f"hub-template|{r.resident_id}|{r.backend}")
                sealed = P.seal(device.box_pub, plain, P.template_aad(device.id, r.resident_id, r.backend, r.version))
            out.append(P.TemplateSet(resident_id=r.resident_id, backend=r.backend, version=r.version, dtype=r.dtype,
                                     dim=r.dim, count=r.count, sealed=sealed))
        return P.TemplatePage(templates=out, cursor=rows[-1].version if rows else since, more=more)

    # ------------------------------------------------------------------ bundles
    def import_bundle(self, data: bytes, progress=None) -> tuple[str, ImportResult, bool]:
        """Load a terminal's USB bundle. Returns (device_id, result, already_imported)."""
        try:
            body = P.read_bundle_header(data)
        except P.ProtocolError as e:
            raise HubError(e.code, e.message, 400, e.detail) from None
        sender = str(body["header"].get("sender", ""))
        dev = self.device(sender)
        if dev is None:
            raise HubError("unknown_device", text("db_bundle_unknown_device"), 403, sender)
        if dev.status != "active":
            raise HubError("device_revoked", text("db_bundle_device_revoked"), 403, sender)
        try:
            header, content = P.open_bundle(data, P.BUNDLE_UP, dev.sign_pub, self.keys.box)
        except P.ProtocolError as e:
            raise HubError(e.code, e.message, 400, e.detail) from None
        bundle_id = header["bundle_id"]
        try:
            sent_at = datetime.fromisoformat(str(header.get("created_at"))).timestamp()
        except ValueError:
            sent_at = None
        with self.Session() as s:
            prior = s.get(ImportedBundle, bundle_id)
        try:
            records = [P.PushRecord.model_validate(r) for r in content.get("records", [])]
        except Exception as e:
            raise HubError("bad_bundle", text("db_bad_bundle"), 400, str(e)[:300]) from None
        result = ImportResult(errors=[])
        for i in range(0, len(records), P.MAX_BATCH):
            for ack in self.store_records(dev.id, records[i:i + P.MAX_BATCH], via="bundle", sent_at=sent_at):
                if ack.status == "stored":
                    result.stored += 1
                elif ack.status == "duplicate":
                    result.duplicates += 1
                else:
                    result.rejected += 1
                    result.errors.append(f"{ack.uuid}: {ack.message}")
            if progress is not None:
                progress(text("db_progress_import"), min(i + P.MAX_BATCH, len(records)), len(records))
        with self.Session.begin() as s:
            if prior is None:
                s.add(ImportedBundle(bundle_id=bundle_id, device_id=dev.id, imported_at=now_iso(self.clock),
                                     stored=result.stored, duplicates=result.duplicates, rejected=result.rejected))
            d = s.get(Device, dev.id)
            d.last_bundle_at = now_iso(self.clock)
        return dev.id, result, prior is not None

    def export_roster_bundle(self, device_id: str) -> bytes:
        """Everything a terminal needs from the county, sealed for it and signed by the hub."""
        dev = self.device(device_id)
        if dev is None:
            raise HubError("unknown_device", text("db_device_not_found"), 404)
        roster, since = [], 0
        while True:
            page = self.roster_page(dev, since)
            roster += [e.model_dump() for e in page.residents]
            since = page.cursor
            if not page.more:
                break
        templates, since = [], 0
        while True:
            tpage = self.template_page(dev, since)
            templates += [t.model_dump() for t in tpage.templates]
            since = tpage.cursor
            if not tpage.more:
                break
        decisions, since = [], 0
        while True:
            dpage = self.fallback_decisions(dev, since)
            decisions += [d.model_dump() for d in dpage.decisions]
            since = dpage.cursor
            if not dpage.more:
                break
        operators, since = [], 0
        while True:
            opage = self.operator_page(dev, since)
            operators += [o.model_dump() for o in opage.operators]
            since = opage.cursor
            if not opage.more:
                break
        content = {"device_id": dev.id, "roster": roster, "policy": self.get_setting("cycle_policy"),
                   "templates": templates, "acks": self.record_uuids(dev.id),
                   # v4: the county's review decisions on this terminal's fallbacks, its operators and
                   # its template-sharing setting, as over the network
                   "fallback_decisions": decisions, "operators": operators,
                   "share_templates": self.share_templates,
                   "protocol": P.PROTOCOL_VERSION}  # v5: a terminal adds v5 record fields only then
        with self.Session.begin() as s:
            sequence = self._bump(s, "bundle", dev.id)  # rises for every bundle this hub makes
        days = int(self.get_setting("bundle_valid_days", P.BUNDLE_VALID_DAYS))
        expires = utc_iso(self.clock.utc_now() + timedelta(days=days))
        return P.make_bundle(P.BUNDLE_DOWN, "county", dev.id, dev.box_pub, self.keys.sign, content,
                             sequence=sequence, expires_at=expires, clock=self.clock)

    # ------------------------------------------------------------------ status page
    def summary(self, today: date | None = None, page: int = 1, per_page: int = 100,
                village: str | None = None, days: int = 14, after: str | None = None) -> dict:
        """What the status page shows, in indexed, paged queries (300,000 residents: see docs/benchmarks.md).

        per_day: the last `days` days (at most 400 rows); overdue: who is overdue or suspended by the
        county's cycle rule (kiosk.county.cycle, the rule terminals apply), one page of `per_page`
        ordered by ID number (`after`: the page after that ID, an index seek; `page`: by offset), with
        the total; devices with their sequence gaps; the number of records held for clock review."""
        from . import cycle

        today = today or self.clock.today()
        page = max(1, page)
        rule = cycle.hub_rule(self)
        since = (today - timedelta(days=days)).isoformat()
        with self.Session() as s:
            per_day = s.execute(
                select(Record.village, Record.occurred_day, Record.verdict, func.count())
                .where(Record.occurred_day >= since, Record.kind == "certification")
                .group_by(Record.village, Record.occurred_day, Record.verdict)
                .order_by(Record.occurred_day.desc(), Record.village).limit(400)
            ).all()
            alive = [Resident.removed.is_(False), Resident.county_status != "deceased"]
            total = cycle.count_overdue(s, rule, today, *alive, village=village or None)
            cond = [*alive, cycle.overdue_condition(rule, today)]
            if village:
                cond.append(Resident.village == village)
            q = (select(Resident.id_number, Resident.name, Resident.village, Resident.certified_on,
                        Resident.data_comparison_on, Resident.county_status, Resident.benefit_start)
                 .where(*cond).order_by(Resident.id_number).limit(per_page + 1))
            q = q.where(Resident.id_number > after) if after else q.offset((page - 1) * per_page)
            rows = s.execute(q).all()
            more = len(rows) > per_page
            rows = rows[:per_page]
            held = s.scalar(select(func.count()).select_from(Record)
                            .where(Record.clock_suspect.is_(True), Record.review.is_(None)))
        overdue = []
        for rid, name, v, c, dc, st, benefit in rows:
            j = cycle.judge(rule, rid, today, certified_on=c, data_comparison_on=dc, benefit_start=benefit,
                            county_status=st)
            overdue.append({"id_number": rid, "name": name, "village": v, "last": j.last.isoformat() if j.last else None,
                            "status": st, "urgency": j.urgency,
                            "suspended_since": j.status.suspended_since.isoformat() if j.status.suspended_since else None})
        days_out: dict[tuple, dict] = {}
        for v, day, verdict, n in per_day:
            d = days_out.setdefault((day, v), {"day": day, "village": v, "pass": 0, "fail": 0})
            d[verdict] = d.get(verdict, 0) + n
        devices = self.devices()
        return {"per_day": list(days_out.values()), "devices": devices, "overdue": overdue,
                "overdue_total": total, "rule": rule.to_config(), "rule_words": cycle.rule_words(rule),
                "page": None if after else page, "per_page": per_page, "village": village,
                "next_after": rows[-1][0] if more and rows else None,
                "gaps": self.all_sequence_gaps(), "held": held}


def _migrate(engine) -> None:
    """Bring a county.db from before per-device record keys up to date (in place, data kept)."""
    insp = inspect(engine)
    tables = set(insp.get_table_names())
    with engine.begin() as c:
        if "devices" in tables:
            have = {col["name"] for col in insp.get_columns("devices")}
            for name, kind in (("clock_offset_s", "FLOAT"), ("clock_checked_at", "VARCHAR(32)")):
                if name not in have:
                    c.execute(sql(f"ALTER TABLE devices ADD COLUMN {name} {kind}"))
        for table, columns in (("residents", (("address", "VARCHAR(200)"), ("phone", "VARCHAR(32)"),
                                              ("contact_name", "VARCHAR(50)"), ("contact_phone", "VARCHAR(32)"))),
                               ("template_sets", (("origin_device", "VARCHAR(40)"),))):
            if table in tables:  # v4 columns, added in place (nullable: old rows keep NULL)
                have = {col["name"] for col in insp.get_columns(table)}
                for name, kind in columns:
                    if name not in have:
                        c.execute(sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))
        if "residents" in tables and "birth_month" not in {col["name"] for col in insp.get_columns("residents")}:
            # the cycle rule judged in SQL (kiosk.county.cycle): the birth month out of the ID number,
            # and its covering index in place of the rolling-12-month one
            c.execute(sql("ALTER TABLE residents ADD COLUMN birth_month SMALLINT"))
            c.execute(sql("UPDATE residents SET birth_month = CAST(substr(id_number, 11, 2) AS INTEGER)"
                           " WHERE length(id_number) = 18"))
            c.execute(sql("DROP INDEX IF EXISTS ix_residents_overdue"))
        if "records" in tables and "clock_suspect" not in {col["name"] for col in insp.get_columns("records")}:
            old_indexes = [ix["name"] for ix in insp.get_indexes("records")]
            c.execute(sql("ALTER TABLE records RENAME TO records_v1"))
            for name in old_indexes:
                c.execute(sql(f"DROP INDEX IF EXISTS {name}"))
            Base.metadata.tables["records"].create(c)
            c.execute(sql(
                "INSERT INTO records (device_id, uuid, kind, resident_id, village, category, verdict, occurred_at,"
                " occurred_day, received_at, via, payload, clock_suspect) SELECT device_id, uuid, kind, resident_id,"
                " village, category, verdict, occurred_at, occurred_day, received_at, via, payload, false"
                " FROM records_v1"))
            c.execute(sql("DROP TABLE records_v1"))


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def open_hub(url: str, key_path: str | Path, clock: Clock | None = None) -> HubDB:
    """Open the hub's database with its key file. A new key is made only for a new database (or
    an old plaintext one holding nothing bound to a key): an existing database whose key file is
    missing is refused with what to do, never opened under a fresh key."""
    key_path = Path(key_path)
    path = atrest.sqlite_file(url)
    if not key_path.exists() and path is not None and atrest.has_data(path):
        if not atrest.is_plaintext(path) or atrest.holds_keyed_data(path):
            raise atrest.HubAtRestError(
                "hub_key_missing",
                text("db_hub_key_missing", key_path=key_path, path=path))
    return HubDB(url, HubKeys.load_or_create(key_path), clock, key_path)


def new_uuid() -> str:
    return str(uuidlib.uuid4())
