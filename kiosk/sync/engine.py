"""Terminal-side county sync: registration, push (outbox + audit), pull (roster, policy,
templates), USB bundles both ways, status for the UI, and a background thread.

Crash safety: an outbox row is marked acknowledged only after the county answered that it
holds the row (stored now or earlier); the hub keys records by UUID. So a kill at any point
means at worst a resend, which the county acknowledges as a duplicate.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
import uuid as uuidlib
from datetime import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from kiosk import protocol as P
from kiosk.core.atomic import write_atomic
from kiosk.core.clock import default_clock
from kiosk.store import Store
from kiosk.store.syncstate import Identity, SyncState
from kiosk.texts import text

from .backoff import Backoff
from .client import HubClient, SyncError, check_url, fetch_cert_pem

log = logging.getLogger(__name__)
AUDIT_STREAM = "audit"
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _now(store: Store | None = None) -> str:
    """Now in UTC (ISO, seconds) from the store's clock (the one clock: kiosk.core.clock)."""
    clock = getattr(store, "clock", None) or default_clock()
    return clock.utc_now().isoformat(timespec="seconds")


def require_identity(state: SyncState) -> Identity:
    ident = state.identity()
    if ident is None:
        raise SyncError("not_registered")
    return ident


# ---------------------------------------------------------------------------- registration
def register(store: Store, hub_url: str, code: str, name: str, pin: str | None = None) -> Identity:
    state = SyncState(store)
    existing = state.identity()
    if existing is not None:
        raise SyncError("already_registered", device=existing.device_id)
    hub_url = check_url(hub_url)
    code = code.strip().upper()
    if not 4 <= len(code) <= 64:
        raise SyncError("bad_code")
    cert_pem = None
    if hub_url.startswith("https://"):
        if not pin:
            raise SyncError("pin_required")
        cert_pem, actual = fetch_cert_pem(hub_url)
        if actual.lower() != pin.replace(":", "").lower():
            raise SyncError("tls_pin_mismatch", why="register_pin_mismatch")
    sign, box = P.new_signing_key(), P.new_box_key()
    sign_pub, box_pub = P.public_b64(sign), P.public_b64(box)
    req = P.RegisterRequest(code=code, name=name[:100] or "kiosk", sign_pub=sign_pub, box_pub=box_pub,
                            proof=P.b64e(sign.sign(P.register_proof_message(code, sign_pub, box_pub))))
    with HubClient(hub_url, cert_pem=cert_pem) as client:
        resp = P.RegisterResponse.model_validate(client.request("POST", "/devices/register", req.model_dump(), signed=False))
    state.save_identity(device_id=resp.device_id, hub_url=hub_url.rstrip("/"), village=resp.village, county=resp.county,
                        sign_key=P.private_bytes(sign), box_key=P.private_bytes(box), hub_sign_pub=resp.hub_sign_pub,
                        hub_box_pub=resp.hub_box_pub, hub_cert_pin=pin)
    state.set(clock_offset=resp.server_time - time.time())
    if cert_pem:
        state.set(hub_cert_pem=cert_pem)
    return state.identity()


# ---------------------------------------------------------------------------- records
def _outbox_records(items, device_id: str, state: SyncState | None = None, hub_box_pub: str | None = None
                    ) -> list[dict]:
    """The outbox rows as sent. The attempt's device is the hub's id for this terminal (the hub
    refuses a record that names another device); the local name is the device's registered name.
    An approved enrolment queued while the county shares templates carries its vectors beside the
    payload, sealed for the hub (v4): read from the store at send time, never kept in the outbox."""
    out = []
    for i in items:
        rec = {"uuid": i.uuid, "kind": i.kind, "created_at": i.created_at,
               "payload": {**i.payload, "device_id": device_id}
               if i.kind in ("certification", "fallback", "enrolment") else i.payload}
        if i.kind == "enrolment" and i.payload.get("template_shared") and state is not None and hub_box_pub:
            rec["template"] = _sealed_template(state, device_id, hub_box_pub, i.uuid, i.payload)
            if rec["template"] is None:  # replaced by a newer enrolment, or no key: the fact goes up alone
                rec["payload"]["template_shared"] = False
                del rec["template"]
        out.append(rec)
    return out


BODY_BUDGET = P.MAX_BODY_BYTES * 3 // 4  # leave room for the envelope and JSON overhead


def _fit_body(records: list[dict], budget: int | None = None) -> list[dict]:
    """The longest prefix of `records` (at least one) whose JSON stays under the hub's body limit:
    templates beside enrolment records make a batch of 500 too big to send at once."""
    budget = budget or BODY_BUDGET
    total = 0
    for n, r in enumerate(records):
        total += len(P.canonical_json(r)) + 1
        if total > budget and n > 0:
            return records[:n]
    return records


def _sealed_template(state: SyncState, device_id: str, hub_box_pub: str, uuid: str, payload: dict) -> dict | None:
    found = state.enrolment_vectors(device_id, uuid)
    if found is None:
        return None
    resident, vectors = found
    arr = np.stack([np.asarray(v) for v in vectors])
    dtype = "float32" if arr.dtype == np.float32 else "float64"
    raw = arr.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
    return {"backend": payload["backend"], "dtype": dtype, "dim": int(arr.shape[1]), "count": int(arr.shape[0]),
            "sealed": P.seal(hub_box_pub, raw, P.template_up_aad(device_id, uuid, resident, payload["backend"]))}


def _audit_records(device_id: str, entries: list[dict]) -> list[dict]:
    return [{"uuid": P.record_uuid(device_id, AUDIT_STREAM, e["seq"]), "kind": "audit", "created_at": e["at"],
             "payload": {"seq": e["seq"], "at": e["at"], "actor": e["actor"], "action": e["action"],
                         "details": e["details"]}} for e in entries]


@dataclass
class SyncReport:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    held: int = 0  # stored by the county but held for review (clock_suspect): counts for no one yet
    refusals: dict = field(default_factory=dict)  # code -> {"message", "count"}: what staff are shown
    audit_sent: int = 0
    roster_changed: int = 0
    templates_changed: int = 0
    fallbacks_decided: int = 0  # county decisions on this terminal's fallbacks (certification without a face)
    enrolments_queued: int = 0  # reviewed enrolments put in the outbox for the county (v4)
    operators_changed: int = 0  # operators the county sent down (v4)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


class Syncer:
    """One sync pass over an open Store (use from one thread; the Store is single-threaded)."""

    def __init__(self, store: Store, hub_url: str | None = None, *, batch: int = P.MAX_BATCH, timeout: float = 15.0,
                 progress: Progress | None = None):
        self.store = store
        self.state = SyncState(store)
        self.ident = require_identity(self.state)
        self.batch = batch
        self.progress = progress
        url = hub_url or self.ident.hub_url
        if not url:
            raise SyncError("no_hub_url")
        self.client = HubClient(url, self.ident.device_id,
                                P.signing_key_from(self.ident.sign_key), timeout=timeout,
                                cert_pem=self.state.get("hub_cert_pem"),
                                clock_offset=float(self.state.get("clock_offset", 0.0)))

    def close(self) -> None:
        if self.client.clock_offset != self.state.get("clock_offset", 0.0):
            self.state.set(clock_offset=self.client.clock_offset)
        self.client.close()

    def _tick(self, stage: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(stage, done, total)

    def push(self, report: SyncReport) -> None:
        report.enrolments_queued += self.state.queue_enrolments(self.ident.device_id)
        total = self.state.counts()["pending"]
        done = 0
        while True:
            items = self.state.outbox_to_send(self.batch)
            if not items:
                break
            records = _fit_body(_outbox_records(items, self.ident.device_id, self.state, self.ident.hub_box_pub))
            items = items[:len(records)]
            try:
                acks = self._post(records)
            except SyncError as e:
                self.state.mark_failed([i.uuid for i in items], f"{e.code}: {e.message}")
                raise
            by_uuid = {a.uuid: a for a in acks}
            ok = [u for u, a in by_uuid.items() if a.status in ("stored", "duplicate")]
            bad = [(u, a.code or "rejected", a.message or "") for u, a in by_uuid.items() if a.status == "rejected"]
            self.state.record_acks(ok, bad)
            report.stored += sum(a.status == "stored" for a in acks)
            report.duplicates += sum(a.status == "duplicate" for a in acks)
            report.rejected += len(bad)
            for a in acks:
                if a.code and (a.status == "rejected" or a.code == P.CLOCK_SUSPECT[0]):
                    entry = report.refusals.setdefault(a.code, {"message": a.message or "", "count": 0})
                    entry["count"] += 1
            report.held += sum(a.status == "stored" and a.code == P.CLOCK_SUSPECT[0] for a in acks)
            done += len(items)
            self._tick(text("sync_step_upload"), done, total)
            if not ok and not bad:  # the hub answered nothing about this batch: do not spin
                raise SyncError("no_acks", retryable=True)
        # Audit log after the certifications (append-only, pushed by sequence number).
        while True:
            cursor = int(self.state.get("audit_cursor", 0))
            entries = self.state.audit_after(cursor, self.batch)
            if not entries:
                break
            acks = self._post(_audit_records(self.ident.device_id, entries))
            rejected = [a for a in acks if a.status == "rejected"]
            if rejected:
                report.errors += [text("sync_audit_rejected", message=a.message) for a in rejected]
            self.state.set(audit_cursor=entries[-1]["seq"])
            report.audit_sent += len(entries)

    def _post(self, records: list[dict]) -> list[P.Ack]:
        # device_clock: this terminal's own clock (the one that dates its records), uncorrected
        body = {"batch_id": str(uuidlib.uuid4()), "records": records,
                "device_clock": self.store.clock.utc_now().timestamp()}
        resp = P.PushResponse.model_validate(self.client.request("POST", "/records", body))
        return resp.acks

    def pull(self, report: SyncReport) -> None:
        if not self.store.has_key:  # lost template key: records still go up; roster and templates wait
            report.errors.append(self.store.key_error.message if self.store.key_error else text("sync_no_key_no_roster"))
            return
        while True:
            page = P.RosterPage.model_validate(
                self.client.request("GET", "/roster", params={"since": int(self.state.get("roster_cursor", 0))}))
            applied, errors = self.state.apply_roster([e.model_dump() for e in page.residents])
            self.state.apply_policy(page.policy)
            self.state.apply_share_templates(page.share_templates)
            self.state.apply_county_protocol(self.client.hub_protocol)
            self.state.set(roster_cursor=page.cursor)
            report.roster_changed += applied
            report.errors += errors
            self._tick(text("sync_step_roster"), report.roster_changed, report.roster_changed + (1 if page.more else 0))
            if not page.more:
                break
        while True:
            tpage = P.TemplatePage.model_validate(
                self.client.request("GET", "/templates", params={"since": int(self.state.get("template_cursor", 0))}))
            report.templates_changed += apply_templates(self.state, self.ident, [t.model_dump() for t in tpage.templates])
            self.state.set(template_cursor=tpage.cursor)
            if not tpage.more:
                break
        self.pull_fallback_decisions(report)
        self.pull_operators(report)

    def pull_operators(self, report: SyncReport) -> None:
        """Operators the county sends down (v4 hub; an older one has none: 404)."""
        while True:
            try:
                page = P.OperatorPage.model_validate(self.client.request(
                    "GET", "/operators", params={"since": int(self.state.get("operator_cursor", 0))}))
            except SyncError as e:
                if e.code == "http_404":
                    return
                raise
            applied, errors = self.state.apply_county_operators([o.model_dump() for o in page.operators])
            report.operators_changed += applied
            report.errors += errors
            self.state.set(operator_cursor=page.cursor)
            if not page.more:
                break

    def pull_fallback_decisions(self, report: SyncReport) -> None:
        """The county's approve/reject of this terminal's fallbacks (v3 hub; an older hub has none)."""
        from kiosk.store import fallbacks

        while True:
            try:
                page = P.FallbackDecisionPage.model_validate(self.client.request(
                    "GET", "/fallback-decisions", params={"since": int(self.state.get("fallback_cursor", 0))}))
            except SyncError as e:
                if e.code == "http_404":  # a hub from before protocol v3: fallbacks stay pending
                    return
                raise
            for d in page.decisions:
                if fallbacks.decide(self.store, d.uuid, d.decision, by=d.by, reason=d.reason,
                                    at=datetime.fromisoformat(d.at)):
                    report.fallbacks_decided += 1
            self.state.set(fallback_cursor=page.cursor)
            if not page.more:
                break

    def run(self, report: SyncReport | None = None) -> SyncReport:
        report = report if report is not None else SyncReport()
        try:
            self.push(report)
            self.pull(report)
        except SyncError as e:
            self.state.set(last_error=f"{e.message}", last_error_at=_now(self.state.store), last_error_code=e.code)
            raise
        self.state.set(last_success=_now(self.state.store), last_error=None, last_error_code=None)
        return report


def apply_templates(state: SyncState, ident: Identity, sets: list[dict]) -> int:
    box = P.box_key_from(ident.box_key)
    changed = 0
    for t in sets:
        if t["sealed"] is None:
            vectors = []
        else:
            raw = P.open_sealed(box, t["sealed"], P.template_aad(ident.device_id, t["resident_id"], t["backend"], t["version"]))
            arr = np.frombuffer(raw, dtype=np.dtype(t["dtype"]).newbyteorder("<")).astype(t["dtype"])
            vectors = list(arr.reshape(t["count"], t["dim"]))
        changed += state.replace_county_templates(t["resident_id"], t["backend"], t["version"], vectors)
    return changed


def sync_once(store: Store, hub_url: str | None = None, *, attempts: int = 4, backoff: Backoff | None = None,
              timeout: float = 15.0, batch: int = P.MAX_BATCH, progress: Progress | None = None,
              sleep: Callable[[float], None] = time.sleep) -> SyncReport:
    """A full pass, retrying transient failures with exponential backoff and jitter."""
    backoff = backoff or Backoff(base=1.0, cap=30.0)
    syncer = Syncer(store, hub_url, batch=batch, timeout=timeout, progress=progress)
    report = SyncReport()  # one report across retries: what an attempt did before failing still counts
    try:
        for n in range(attempts):
            try:
                return syncer.run(report)
            except SyncError as e:
                if not e.retryable or n == attempts - 1:
                    raise
                sleep(backoff.next_delay())
        raise AssertionError("unreachable")
    finally:
        syncer.close()


# ---------------------------------------------------------------------------- USB bundles
def export_bundle(store: Store, to_dir: Path, progress: Progress | None = None) -> tuple[Path, int, int]:
    """Everything not yet acknowledged, signed by this device and sealed for the county.
    Returns (file, certifications, audit entries)."""
    state = SyncState(store)
    ident = require_identity(state)
    state.queue_enrolments(ident.device_id)
    items = state.outbox_to_send(limit=-1)  # every pending row not refused by the county (LIMIT -1: all)
    audit = state.audit_after(int(state.get("audit_cursor", 0)), limit=-1)
    records = _outbox_records(items, ident.device_id, state, ident.hub_box_pub) + _audit_records(ident.device_id, audit)
    if progress:
        progress(text("sync_step_export"), len(records), len(records))
    data = P.make_bundle(P.BUNDLE_UP, ident.device_id, "county", ident.hub_box_pub, P.signing_key_from(ident.sign_key),
                         {"device_id": ident.device_id, "records": records})
    to_dir = Path(to_dir)
    to_dir.mkdir(parents=True, exist_ok=True)
    out = to_dir / f"kiosk-{ident.device_id}-{store.clock.utc_now().strftime('%Y%m%d-%H%M%S')}.bundle"
    _write_atomic(out, data)
    store.audit("kiosk", "bundle_exported", {"file": out.name, "certifications": len(items), "audit": len(audit)})
    return out, len(items), len(audit)


_write_atomic = functools.partial(write_atomic, mode=0o600)  # bundles hold personal data: 0600


def _check_bundle_order(store: Store, state: SyncState, header: dict) -> int:
    """A county bundle must be newer than the last one imported and not expired (both signed)."""
    sequence, expires = header.get("sequence"), header.get("expires_at")
    if not isinstance(sequence, int) or not isinstance(expires, str):
        raise SyncError("bundle_unordered")
    last = int(state.get("county_bundle_seq", 0) or 0)
    if sequence <= last:
        raise SyncError("bundle_old", sequence=sequence, last=last)
    try:
        expired = datetime.fromisoformat(expires) < store.clock.utc_now()
    except ValueError:
        expired = True
    if expired:
        raise SyncError("bundle_expired", expires=expires[:10])
    return sequence


def import_county_bundle(store: Store, path: Path) -> dict:
    """Apply a roster bundle from the county (roster, policy, templates, acknowledgements)."""
    state = SyncState(store)
    ident = require_identity(state)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SyncError("unreadable_file", detail=str(e), path=path) from None
    try:
        header, content = P.open_bundle(data, P.BUNDLE_DOWN, ident.hub_sign_pub, P.box_key_from(ident.box_key))
    except P.ProtocolError as e:
        raise SyncError(e.code, e.message, False, e.detail) from None
    if content.get("device_id") != ident.device_id:
        raise SyncError("not_for_us")
    sequence = _check_bundle_order(store, state, header)
    try:  # checked before anything applies: a malformed bundle changes nothing
        decisions = [P.FallbackDecision.model_validate(d) for d in content.get("fallback_decisions") or []]
        county_ops = [P.CountyOperator.model_validate(o) for o in content.get("operators") or []]
    except Exception as e:  # pydantic.ValidationError
        raise SyncError("bad_bundle", detail=str(e)[:300]) from None
    roster = content.get("roster", []) if store.has_key else []  # names and IDs are sealed with the key
    applied, errors = state.apply_roster(roster)
    state.apply_policy(content.get("policy"))
    if roster:
        state.set(roster_cursor=max(int(state.get("roster_cursor", 0)), max(e["version"] for e in roster)))
    # Without the template key the roster and acknowledgements still apply; templates wait for the key.
    templates = content.get("templates", []) if store.has_key else []
    changed = apply_templates(state, ident, templates)
    if templates:
        state.set(template_cursor=max(int(state.get("template_cursor", 0)), max(t["version"] for t in templates)))
    state.apply_share_templates(content.get("share_templates"))
    state.apply_county_protocol(content.get("protocol"))
    decided = _apply_bundle_decisions(store, state, decisions)
    operators, op_errors = _apply_bundle_operators(state, county_ops)
    errors += op_errors
    acks = set(content.get("acks", []))
    pending = [i.uuid for i in state.outbox_to_send(limit=-1) if i.uuid in acks]
    state.record_acks(pending)
    cursor = int(state.get("audit_cursor", 0))
    for e in state.audit_after(cursor, limit=-1):  # type: ignore[misc]  # `e` of an earlier except, reused
        if P.record_uuid(ident.device_id, AUDIT_STREAM, e["seq"]) not in acks:
            break
        cursor = e["seq"]
    state.set(audit_cursor=cursor, last_bundle_import=_now(store), county_bundle_seq=sequence)
    store.audit("county", "bundle_imported", {"bundle": header["bundle_id"], "roster": applied,
                                              "template_sets": changed, "acked": len(pending),
                                              "fallbacks_decided": decided, "operators": operators})
    return {"roster_changed": applied, "templates_changed": changed, "acked": len(pending),
            "fallbacks_decided": decided, "operators_changed": operators, "errors": errors}


def _apply_bundle_decisions(store: Store, state: SyncState, decisions: list[P.FallbackDecision]) -> int:
    """The county's decisions on this terminal's fallbacks, as over /fallback-decisions: each applies
    once (fallbacks.decide changes only a pending one); the cursor moves so the network skips them."""
    from kiosk.store import fallbacks

    decided = 0
    for d in sorted(decisions, key=lambda d: d.version):
        if fallbacks.decide(store, d.uuid, d.decision, by=d.by, reason=d.reason, at=datetime.fromisoformat(d.at)):
            decided += 1
    if decisions:
        state.set(fallback_cursor=max(int(state.get("fallback_cursor", 0)), max(d.version for d in decisions)))
    return decided


def _apply_bundle_operators(state: SyncState, ops: list[P.CountyOperator]) -> tuple[int, list[str]]:
    cursor = int(state.get("operator_cursor", 0))
    fresh = [o.model_dump() for o in ops if o.version > cursor]
    applied, errors = state.apply_county_operators(fresh)
    if ops:
        state.set(operator_cursor=max(cursor, max(o.version for o in ops)))
    return applied, errors


# ---------------------------------------------------------------------------- for the UI
def status(store: Store) -> dict:
    """Read-only: {pending, rejected, refusals, last_success, last_error, device_id, registered};
    `refusals`: why the county refused the records still here, [{code, message, count}] for staff."""
    state = SyncState(store)
    counts = state.counts()
    row = store.db.execute("SELECT device_id FROM sync_identity WHERE id = 1").fetchone()
    refusals = [{"code": c, "message": m, "count": n} for c, m, n in store.db.execute(
        "SELECT r.code, max(r.message), count(*) FROM outbox_rejected r JOIN outbox o USING (uuid)"
        " WHERE o.acked_at IS NULL GROUP BY r.code ORDER BY count(*) DESC").fetchall()]
    return {"pending": counts["pending"], "rejected": counts["rejected"], "refusals": refusals,
            "last_success": state.get("last_success"), "last_error": state.get("last_error"),
            "device_id": row[0] if row else None, "registered": row is not None}


class BackgroundSync:
    """Runs sync in its own thread with its own Store connection (the Store is single-threaded).

    start() / stop(); `wake()` asks for a pass now (e.g. right after a certification).
    `last_report` / `last_error` hold the latest outcome; status(store) reads the same from the DB.
    """

    def __init__(self, store_path: str | Path, key_path: str | Path, settings=None, *, interval_s: float | None = None,
                 backoff: Backoff | None = None, hub_url: str | None = None):
        self.store_path, self.key_path = Path(store_path), Path(key_path)
        # The service area's clock (kiosk.toml timezone), for the days this thread's store connection dates.
        self.clock = settings.clock() if hasattr(settings, "clock") else None
        self.hub_url = hub_url or getattr(settings, "hub_url", "") or None
        self.backup_keep_days = int(getattr(settings, "backup_keep_days", 7))
        self.interval_s = interval_s if interval_s is not None else float(getattr(settings, "sync_interval_s", 300.0))
        self.backoff = backoff or Backoff(base=5.0, cap=600.0)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_report: SyncReport | None = None
        self.last_error: SyncError | None = None
        self.passes = 0
        # issue 14: heartbeat after a good pass (at most every heartbeat_interval_s); a pass at the
        # maintenance window's start (kiosk.maintenance), where the backup and sync belong
        self.settings = settings
        self.heartbeat_interval_s = float(getattr(settings, "heartbeat_interval_s", 300.0))
        self.heartbeats = 0
        self._heartbeat_at: float | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="county-sync", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        from kiosk.store import StoreError
        from kiosk.store.backup import ensure_daily_backup

        store = Store.open(self.store_path, self.key_path, require_key=False, clock=self.clock)
        try:
            while not self._stop.is_set():
                delay = self.interval_s
                try:
                    ensure_daily_backup(store, keep_days=self.backup_keep_days)  # at most once a day
                except StoreError as e:
                    log.warning("daily backup failed: %s", e)
                try:
                    self.last_report = sync_once(store, self.hub_url, attempts=1)
                    self.last_error = None
                    self.backoff.reset()
                    self._heartbeat(store)
                except SyncError as e:
                    self.last_error = e
                    if e.code == "not_registered":
                        delay = max(self.interval_s, 60.0)
                    else:
                        delay = self.backoff.next_delay()
                except Exception as e:  # keep the thread alive; show the problem to staff
                    self.last_error = SyncError("internal", retryable=True, detail=repr(e))
                    delay = self.backoff.next_delay()
                self.passes += 1
                delay = self._until_maintenance(store, delay)
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            store.close()

    def _heartbeat(self, store: Store) -> None:
        """Tell the county how this kiosk is (kiosk.sync.heartbeat), at most every heartbeat_interval_s."""
        from .heartbeat import send_heartbeat

        now = time.monotonic()
        if self._heartbeat_at is not None and now - self._heartbeat_at < self.heartbeat_interval_s:
            return
        try:
            if send_heartbeat(store, self.settings, self.hub_url):
                self.heartbeats += 1
            self._heartbeat_at = now
        except Exception as e:  # never stops the records from going up
            log.warning("heartbeat not sent: %s", e)

    def _until_maintenance(self, store: Store, delay: float) -> float:
        """Wake at the next maintenance window's start (a sync pass and the day's backup run then)."""
        from kiosk.maintenance import next_window, schedule_in_force

        try:
            nxt = next_window(store.clock.now(), schedule_in_force(store, self.settings))
        except Exception:
            return delay
        if nxt is None:
            return delay
        return max(1.0, min(delay, (nxt[0] - store.clock.now()).total_seconds() + 1.0))


def cycle_rule(store: Store, settings):
    """The certification cycle rule in force (kept here for callers of kiosk.sync)."""
    from kiosk.service import cycle_rule as in_force

    return in_force(store, settings)