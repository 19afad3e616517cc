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
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from sqlalchemy import (
    Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text, create_engine, event, func, select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from kiosk import protocol as P
from kiosk.core.clock import Clock, default_clock, utc_iso

from .keys import HubKeys

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


class Resident(Base):
    __tablename__ = "residents"
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


class Record(Base):
    __tablename__ = "records"
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    resident_id: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    village: Mapped[str | None] = mapped_column(String(100), nullable=True)
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(8), nullable=True)
    occurred_at: Mapped[str] = mapped_column(String(40))
    occurred_day: Mapped[str] = mapped_column(String(10), index=True)  # China local date
    received_at: Mapped[str] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)


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

    def __init__(self, url: str, keys: HubKeys, clock: Clock | None = None):
        self.url = url
        self.keys = keys
        self.clock = clock or default_clock()  # the service area's clock: days on the status page
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine, "connect")
            def _pragmas(conn, _record):
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        Base.metadata.create_all(self.engine)
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
        return self.get_setting("county_name", "县社保局")

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
            raise HubError("bad_signature", "登记请求的签名不对，请重新运行登记命令。", 401)
        P.box_public_from(req.box_pub)
        with self.Session.begin() as s:
            pc = s.get(ProvisioningCode, _hash_code(req.code), with_for_update=True)
            if pc is None:
                raise HubError("bad_code", "开通码不对。请核对县社保局给的开通码（注意大小写和横线）。", 403)
            if pc.used_at is not None:
                raise HubError("code_used", "这个开通码已经用过了，每个开通码只能用一次。请向县社保局申请新的开通码。", 403)
            if pc.expires_at < now_iso(self.clock):
                raise HubError("code_expired", "开通码已过期，请向县社保局申请新的开通码。", 403)
            if s.scalar(select(Device).where(Device.sign_pub == req.sign_pub)) is not None:
                raise HubError("key_in_use", "这台设备的密钥已经登记过了。", 409)
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
            raise HubError("unknown_device", "县里没有这台设备的登记记录。请用开通码重新登记（kiosk register）。", 401)
        if d.status != "active":
            raise HubError("device_revoked", "这台设备已被县社保局停用，请联系县社保局信息科。", 403)
        if not P.verify_signature(P.verify_key_from(d.sign_pub), signature, message):
            raise HubError("bad_signature", "请求签名不对，已拒绝。请确认本机登记信息未被改动，或联系县社保局信息科。", 401)
        try:
            t = float(ts)
        except ValueError:
            raise HubError("bad_timestamp", "请求时间格式不对。", 400) from None
        if abs(now - t) > P.CLOCK_WINDOW_S:
            raise HubError("clock_skew", "本机时间与县里相差太大，请校准本机日期和时间后再同步。", 401,
                           detail=str(now))
        if not (8 <= len(nonce) <= 64):
            raise HubError("bad_nonce", "请求缺少一次性编号。", 400)
        try:
            with self.Session.begin() as s:
                s.add(Nonce(device_id=device_id, nonce=nonce, ts=t))
                dev = s.get(Device, device_id)
                dev.last_seen_at = now_iso(self.clock)
                s.execute(Nonce.__table__.delete().where(Nonce.ts < now - 2 * P.CLOCK_WINDOW_S))
        except IntegrityError:
            raise HubError("replayed", "这个请求已经收到过（重放），已拒绝。", 409) from None
        return d

    # ------------------------------------------------------------------ records
    def store_records(self, device_id: str, records: list[P.PushRecord], via: str) -> list[P.Ack]:
        """Store each record once; an IntegrityError from a concurrent copy is retried as duplicates."""
        for attempt in range(3):
            try:
                return self._store_records(device_id, records, via)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _store_records(self, device_id: str, records: list[P.PushRecord], via: str) -> list[P.Ack]:
        acks: list[P.Ack] = []
        now = now_iso(self.clock)
        with self.Session.begin() as s:
            dev = s.get(Device, device_id)
            uuids = [r.uuid for r in records]
            existing: set[str] = set()
            for i in range(0, len(uuids), 500):
                existing |= set(s.scalars(select(Record.uuid).where(Record.uuid.in_(uuids[i:i + 500]))))
            seen: set[str] = set()
            certified: dict[str, str] = {}
            rows = []
            for rec in records:
                if rec.uuid in existing or rec.uuid in seen:
                    acks.append(P.Ack(uuid=rec.uuid, status="duplicate"))
                    continue
                try:
                    parsed = P.validate_record(rec, self.clock.today())
                except P.ProtocolError as e:
                    acks.append(P.Ack(uuid=rec.uuid, status="rejected", code=e.code, message=e.message))
                    continue
                seen.add(rec.uuid)
                row = dict(uuid=rec.uuid, device_id=device_id, kind=rec.kind, received_at=now, via=via,
                           village=dev.village if dev else None,
                           payload=json.dumps(rec.payload, ensure_ascii=False, sort_keys=True))
                if isinstance(parsed, P.CertificationPayload):
                    rid = P.normalize_id(parsed.resident_id)
                    row.update(resident_id=rid, category=parsed.category, verdict=parsed.verdict,
                               occurred_at=parsed.finished_at, occurred_day=_local_day(self.clock, parsed.finished_at))
                    if parsed.verdict == "pass":
                        day = row["occurred_day"]
                        certified[rid] = max(certified.get(rid, day), day)
                else:
                    row.update(resident_id=None, category=None, verdict=None, occurred_at=parsed.at,
                               occurred_day=_local_day(self.clock, parsed.at))
                rows.append(row)
                acks.append(P.Ack(uuid=rec.uuid, status="stored"))
            if rows:
                s.execute(Record.__table__.insert(), rows)
            for rid, day in certified.items():
                r = s.get(Resident, rid)
                if r is not None and (r.certified_on is None or r.certified_on < day):
                    r.certified_on = day
                    r.version = self._bump(s, "roster", rid)
                    r.updated_at = now
            if dev is not None and via == "network":
                dev.last_push_at = now
        return acks

    def record_uuids(self, device_id: str) -> list[str]:
        with self.Session() as s:
            return list(s.scalars(select(Record.uuid).where(Record.device_id == device_id)))

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
        ) for r in rows]
        cursor = rows[-1].version if rows else since
        return P.RosterPage(residents=entries, cursor=cursor, more=more, policy=self.get_setting("cycle_policy"))

    # ------------------------------------------------------------------ templates
    def set_templates(self, resident_id: str, backend: str, vectors: list[np.ndarray]) -> int:
        """Replace a resident's county templates for one backend (encrypted at rest)."""
        with self.Session.begin() as s:
            if s.get(Resident, resident_id) is None:
                raise HubError("unknown_resident", "名册中没有这个人，请先导入名册再建模。", 404, resident_id)
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
                                     updated_at=now_iso(self.clock), **values))
            else:
                for k, v in values.items():
                    setattr(row, k, v)
                row.version, row.updated_at = version, now_iso(self.clock)
            return version

    def template_page(self, device: Device, since: int, limit: int = 500) -> P.TemplatePage:
        limit = max(1, min(limit, 500))
        with self.Session() as s:
            q = select(TemplateSetRow).join(Resident, Resident.id_number == TemplateSetRow.resident_id)
            q = self._device_filter(q.where(TemplateSetRow.version > since), device)
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
            raise HubError("unknown_device", "数据包来自未登记的设备，已拒绝导入。请确认设备已在本县登记。", 403, sender)
        if dev.status != "active":
            raise HubError("device_revoked", "数据包来自已停用的设备，已拒绝导入。请联系县社保局信息科。", 403, sender)
        try:
            header, content = P.open_bundle(data, P.BUNDLE_UP, dev.sign_pub, self.keys.box)
        except P.ProtocolError as e:
            raise HubError(e.code, e.message, 400, e.detail) from None
        bundle_id = header["bundle_id"]
        with self.Session() as s:
            prior = s.get(ImportedBundle, bundle_id)
        try:
            records = [P.PushRecord.model_validate(r) for r in content.get("records", [])]
        except Exception as e:
            raise HubError("bad_bundle", "数据包内容格式不对，已拒绝导入。请重新导出。", 400, str(e)[:300]) from None
        result = ImportResult(errors=[])
        for i in range(0, len(records), P.MAX_BATCH):
            for ack in self.store_records(dev.id, records[i:i + P.MAX_BATCH], via="bundle"):
                if ack.status == "stored":
                    result.stored += 1
                elif ack.status == "duplicate":
                    result.duplicates += 1
                else:
                    result.rejected += 1
                    result.errors.append(f"{ack.uuid}: {ack.message}")
            if progress is not None:
                progress("导入数据包", min(i + P.MAX_BATCH, len(records)), len(records))
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
            raise HubError("unknown_device", "没有这台设备的登记记录，请核对设备编号（kiosk-county devices）。", 404)
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
        content = {"device_id": dev.id, "roster": roster, "policy": self.get_setting("cycle_policy"),
                   "templates": templates, "acks": self.record_uuids(dev.id)}
        return P.make_bundle(P.BUNDLE_DOWN, "county", dev.id, dev.box_pub, self.keys.sign, content)

    # ------------------------------------------------------------------ status page
    def summary(self, today: date | None = None, overdue_months: int = 12) -> dict:
        today = today or self.clock.today()
        with self.Session() as s:
            per_day = s.execute(
                select(Record.village, Record.occurred_day, Record.verdict, func.count())
                .where(Record.kind == "certification")
                .group_by(Record.village, Record.occurred_day, Record.verdict)
                .order_by(Record.occurred_day.desc(), Record.village)
            ).all()
            residents = list(s.scalars(select(Resident).where(Resident.removed.is_(False))
                                       .where(Resident.county_status != "deceased")))
        cutoff = (today - timedelta(days=round(overdue_months * 30.44))).isoformat()
        overdue = []
        for r in residents:
            last = max([d for d in (r.certified_on, r.data_comparison_on) if d], default=None)
            if last is None or last < cutoff:
                overdue.append({"id_number": r.id_number, "name": r.name, "village": r.village,
                                "last": last, "status": r.county_status})
        days: dict[tuple, dict] = {}
        for village, day, verdict, n in per_day:
            d = days.setdefault((day, village), {"day": day, "village": village, "pass": 0, "fail": 0})
            d[verdict] = d.get(verdict, 0) + n
        return {"per_day": list(days.values()), "devices": self.devices(), "overdue": overdue}


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def open_hub(url: str, key_path: str | Path, clock: Clock | None = None) -> HubDB:
    return HubDB(url, HubKeys.load_or_create(Path(key_path)), clock)


def new_uuid() -> str:
    return str(uuidlib.uuid4())
