"""`kiosk-county`: the county hub's commands (serve, user, provision, roster, enrol, import, export, devices,
check, revoke, review, fallbacks, setting, operator, enrolments, receipt verify).

The hub's own entry point, apart from the village terminal's `kiosk` (which never imports
FastAPI, uvicorn or SQLAlchemy). Exit 0 when a command ran; exit 2 with one line (under
--json: {"error": code, "message": str}) for bad input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kiosk.core.atomic import write_atomic
from kiosk.core.clock import default_clock
from kiosk.core.errors import KioskError
from kiosk.core.paths import home_dir
from kiosk.county.texts import text
from kiosk.core.messages import message


class CountyCliError(KioskError):
    pass


def _fail(code: str, message: str) -> CountyCliError:
    return CountyCliError(code, message)


def _emit(obj: dict, as_json: bool, human: str) -> None:
    if as_json:
        print(json.dumps(obj, ensure_ascii=False), flush=True)
    else:
        print(human, flush=True)


def _bar(desc: str):
    """A tqdm progress callback (stage, done, total) on stderr; silent when not a terminal."""
    from tqdm import tqdm

    bars: dict = {}

    def tick(stage: str, done: int, total: int) -> None:
        if total < 2:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False,
                                     disable=not sys.stderr.isatty())
        bar.total = max(bar.total, total)
        bar.n = done
        bar.refresh()

    tick.bars = bars
    return tick


def _photo_encoder():
    """The photo encoder with the configured embedding backend: enrolment photos are encoded at
    the county, in this command (never in the hub server), exactly as a terminal would."""
    from kiosk.config import Settings
    from kiosk.faces import PhotoEncoder
    from kiosk.matching.embedders import make_embedder

    return PhotoEncoder(make_embedder(Settings.load()))


def _county_home() -> Path:
    return home_dir() / "county"


def default_hub_key() -> Path:
    """Where hub.key lives by default: outside the hub's data folder, so that a copy of the data
    folder (or of county.db) is not a copy of its key. Under systemd with `ConfigurationDirectory=`
    the service's configuration folder (e.g. /etc/village-kiosk-county); otherwise
    `$XDG_CONFIG_HOME/village-kiosk-county/hub.key` (~/.config/...)."""
    service = os.environ.get("CONFIGURATION_DIRECTORY")
    if service:
        return Path(service.split(":")[0]) / "hub.key"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "village-kiosk-county" / "hub.key"


def hub_key_path(explicit: str | None = None, warn=None) -> Path:
    """--hub-key, else KIOSK_HUB_KEY, else the default. An install from before keeps its key
    beside county.db ($KIOSK_HOME/county/hub.key): when the default has none, that one is used
    as it is, with a one-line warning telling IT how to move it (never moved by the hub itself:
    a half-done move of the only copy of a key loses the database, and the key's backup must
    follow it)."""
    given = explicit or os.environ.get("KIOSK_HUB_KEY")
    if given:
        return Path(given)
    default = default_hub_key()
    legacy = _county_home() / "hub.key"
    if not default.exists() and legacy.exists():
        (warn or _warn)(text("cli_hub_key_legacy", legacy=legacy, default=default, parent=default.parent))
        return legacy
    return default


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _hub(args):
    from kiosk.county import open_hub

    home = _county_home()
    url = args.db or os.environ.get("KIOSK_COUNTY_DB") or f"sqlite:///{home / 'county.db'}"
    key = hub_key_path(args.hub_key)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    try:
        return open_hub(url, key)
    except ValueError as e:
        raise _fail("hub_key", str(e)) from None


def _hub_error(e):
    return _fail(e.code, e.message)


def cmd_county_serve(args) -> int:
    from kiosk.county.server import is_loopback, serve
    from kiosk.county.tls import ensure_self_signed
    from kiosk.protocol import cert_pin

    hub = _hub(args)
    cert, key = args.tls_cert, args.tls_key
    if cert and not key:
        raise _fail("tls_key_missing", text("cli_tls_key_missing"))
    if not cert and not is_loopback(args.host) and not args.insecure_http:
        c, k, made = ensure_self_signed(_county_home() / "tls", args.host)
        cert, key = str(c), str(k)
        print((text("cli_cert_made") if made else text("cli_cert_used")) + text("cli_cert_self_signed", cert=c), flush=True)
    if cert:
        print(text("cli_cert_pin", cert_pin=cert_pin(Path(cert).read_text())), flush=True)
    elif args.insecure_http and not is_loopback(args.host):
        print(text("cli_insecure_http"), flush=True)
    if not hub.users():
        print(text("cli_no_staff_users"), flush=True)
    scheme = "https" if cert else "http"
    print(text("cli_serving", scheme=scheme, host=args.host, port=args.port), flush=True)
    serve(hub, args.host, args.port, cert, key, behind_tls_proxy=args.insecure_http and not is_loopback(args.host),
          proxy_ips=args.proxy_ips)
    return 0


def _read_password(args) -> str:
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(text("cli_new_password"))
        if getpass.getpass(text("cli_enter_again")) != first:
            raise _fail("password_mismatch", text("cli_password_mismatch"))
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def cmd_county_user(args) -> int:
    from kiosk.county import HubError

    hub = _hub(args)
    actor = os.environ.get("USER") or "county-cli"
    try:
        if args.action in ("add", "passwd"):
            if not args.name:
                raise _fail("user_name_missing", text("cli_user_name_missing"))
            role = args.role
            if args.action == "passwd":
                existing = {u.name: u for u in hub.users()}.get(args.name)
                if existing is None:
                    raise _fail("unknown_user", text("cli_unknown_user", name=args.name))
                role = args.role or existing.role
            hub.add_user(args.name, role or "viewer", _read_password(args), replace=args.action == "passwd")
            hub.log_action(actor, "user_" + args.action, f"{args.name} role={role or 'viewer'}")
            _emit({"user": args.name, "role": role or "viewer"}, args.json,
                  text("cli_user_saved", done=text("cli_word_add") if args.action == 'add' else text("cli_word_change"), name=args.name, role=role or 'viewer'))
        elif args.action == "disable":
            if not hub.disable_user(args.name or ""):
                raise _fail("unknown_user", text("cli_unknown_user", name=args.name))
            hub.log_action(actor, "user_disable", args.name)
            _emit({"user": args.name, "disabled": True}, args.json, text("cli_user_disabled", name=args.name))
        else:
            for u in hub.users():
                _emit({"user": u.name, "role": u.role, "disabled": u.disabled, "created_at": u.created_at}, args.json,
                      text("cli_user_line", name=u.name, role=u.role, state=text("word_disabled") if u.disabled else text("word_active"), created_at=u.created_at))
    except HubError as e:
        raise _hub_error(e) from None
    return 0


def cmd_county_provision(args) -> int:
    hub = _hub(args)
    code = hub.provision(args.village, days=args.days)
    _emit({"code": code, "village": args.village, "valid_days": args.days}, args.json,
          text("cli_provision", code=code, days=args.days))
    return 0


def cmd_county_roster(args) -> int:
    from kiosk.county.roster import load_roster

    hub = _hub(args)
    if args.policy:  # checked before anything is loaded: a bad rule changes nothing
        from kiosk.county import HubError
        from kiosk.county.cycle import check_policy

        try:
            check_policy(args.policy)
        except HubError as e:
            raise _fail(e.code, e.message) from None
    load = load_roster(Path(args.file), today=hub.clock.today())
    changed, unchanged = hub.upsert_residents(load.rows) if load.rows else (0, 0)
    if args.policy:
        _set_policy(hub, args.policy)
    if args.county:
        hub.set_setting("county_name", args.county)
    obj = {"loaded": len(load.rows), "changed": changed, "unchanged": unchanged, "errors": load.errors,
           "notes": load.notes}
    lines = [text("cli_roster_loaded", n=len(load.rows), changed=changed, unchanged=unchanged)]
    if load.errors:
        lines.append(text("cli_roster_problems", n=len(load.errors)))
        lines += ["  " + e for e in load.errors]
    lines += ["  " + n for n in load.notes]
    _emit(obj, args.json, "\n".join(lines))
    if not load.rows and load.errors:
        raise _fail("roster_rejected", load.errors[0])
    return 0


def cmd_county_enrol(args) -> int:
    from kiosk.county import HubError
    from kiosk.faces import PhotoError
    from kiosk.core.ids import mask_id, normalize_id, valid_id_number

    rid = normalize_id(args.id_number)
    if not valid_id_number(rid, default_clock().today()):
        raise _fail("bad_id_number", text("cli_bad_id_number"))
    from kiosk.matching.embedders import EmbedderError

    try:
        enc = _photo_encoder()
    except EmbedderError as e:  # the configured model file is missing or broken
        raise _fail(e.code, e.message) from None
    try:
        vecs = [v for p in args.photos for v in enc.encode_template(p)]
    except PhotoError as e:
        raise _fail(e.code, e.message) from e
    backend = getattr(enc.encoder, "name", "dlib-128")
    hub = _hub(args)
    try:
        version = hub.set_templates(rid, backend, vecs)
    except HubError as e:
        raise _hub_error(e) from None
    _emit({"resident": mask_id(rid), "templates": len(vecs), "backend": backend, "version": version},
          args.json, text("cli_enrolled", n=len(vecs)))
    return 0


def cmd_county_import(args) -> int:
    from kiosk.county import HubError

    hub = _hub(args)
    try:
        data = Path(args.file).read_bytes()
    except OSError:
        raise _fail("unreadable_file", text("cli_unreadable_file", file=args.file)) from None
    try:
        device_id, res, again = hub.import_bundle(data, progress=_bar("import"))
    except HubError as e:
        raise _hub_error(e) from None
    obj = {"device_id": device_id, "stored": res.stored, "duplicates": res.duplicates, "rejected": res.rejected,
           "errors": res.errors, "already_imported": again}
    human = (text("cli_imported", device_id=device_id, stored=res.stored, duplicates=res.duplicates)
             + (text("cli_import_rejected", rejected=res.rejected) + text("cli_import_error_separator").join(res.errors[:5]) if res.rejected else "") + text("cli_import_end")
             + (text("cli_import_again") if again and not res.stored else ""))
    _emit(obj, args.json, human)
    return 0


def cmd_county_export(args) -> int:
    from kiosk.county import HubError

    hub = _hub(args)
    try:
        data = hub.export_roster_bundle(args.device)
    except HubError as e:
        raise _hub_error(e) from None
    out_dir = Path(args.to)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"county-{args.device}-{default_clock().utc_now().strftime('%Y%m%d-%H%M%S')}.bundle"
    write_atomic(out, data, mode=0o600)  # names and ID numbers: 0600
    _emit({"file": str(out), "bytes": len(data)}, args.json,
          text("cli_export", out=out, name=out.name))
    return 0


def cmd_county_devices(args) -> int:
    hub = _hub(args)
    for d in hub.devices():
        gaps = hub.sequence_gaps(d.id)
        obj = {"device_id": d.id, "name": d.name, "village": d.village, "status": d.status,
               "records": hub.count_records(d.id, "certification"), "audit": hub.count_records(d.id, "audit"),
               "last_seen_at": d.last_seen_at, "clock_offset_s": d.clock_offset_s, "sequence": gaps}
        gap_text = (text("cli_device_gaps", missing=gaps['missing']) + message("protocol_list_separator").join(f"{a}-{b}" if a != b else str(a)
                                                          for a, b in gaps["ranges"]) + text("cli_device_gaps_end")) if gaps["missing"] else ""
        _emit(obj, args.json, text("cli_device_line", id=d.id, name=d.name, village=d.village or '', state=text("word_active") if d.status == 'active' else text("word_disabled"), records=obj['records'], last_seen_at=d.last_seen_at or text("cli_word_never"), gap_text=gap_text))
    return 0


def cmd_county_review(args) -> int:
    """List the records held as clock_suspect; confirm or reject one (DEVICE:UUID)."""
    from kiosk.county import HubError

    hub = _hub(args)
    by = args.by or os.environ.get("USER") or "county-cli"
    for decision, target in (("confirmed", args.confirm), ("rejected", args.reject)):
        if not target:
            continue
        device_id, _, uuid = target.partition(":")
        try:
            hub.review_record(device_id, uuid, decision, by)
        except HubError as e:
            raise _hub_error(e) from None
        hub.log_action(by, "review_" + decision, f"{device_id}:{uuid}")
        _emit({"device_id": device_id, "uuid": uuid, "review": decision}, args.json,
              text("cli_review_done", uuid=uuid, decision=text("cli_review_confirmed") if decision == 'confirmed' else text("cli_review_rejected")))
        return 0
    rows = hub.suspect_records()
    for r in rows:
        obj = {"device_id": r.device_id, "uuid": r.uuid, "resident": r.resident_id and r.resident_id[:6] + "********"
               + r.resident_id[-4:], "kind": r.kind, "occurred_at": r.occurred_at, "received_at": r.received_at,
               "reason": r.suspect_reason}
        _emit(obj, args.json, text("cli_review_line", device_id=r.device_id, uuid=r.uuid, kind=r.kind, occurred_at=r.occurred_at, received_at=r.received_at, suspect_reason=r.suspect_reason))
    if not args.json:
        print(text("cli_review_total", n=len(rows)), flush=True)
    return 0


def cmd_county_fallbacks(args) -> int:
    """Certifications without a face (工作人员核实认证 / 亲属承诺): list; approve or reject one (DEVICE:UUID)."""
    from kiosk.county import HubError

    hub = _hub(args)
    if args.action:
        if not args.target or ":" not in args.target:
            raise _hub_error(HubError("usage", text("cli_fallback_usage")))
        if not args.by:
            raise _hub_error(HubError("usage", text("cli_fallback_by_missing")))
        device_id, _, uuid = args.target.partition(":")
        decision = "approved" if args.action == "approve" else "rejected"
        try:
            d = hub.decide_fallback(device_id, uuid, decision, args.by, args.reason)
        except HubError as e:
            raise _hub_error(e) from None
        hub.log_action(args.by, "fallback_" + decision, f"{device_id}:{uuid}")
        _emit({"device_id": device_id, "uuid": uuid, "decision": decision, "by": d.by, "at": d.at,
               "reason": d.reason, "certified_on": d.certified_on}, args.json,
              text("cli_review_done", uuid=uuid, decision=text("cli_fallback_approved_on") + (d.certified_on or '') if decision == 'approved' else text("cli_word_rejected_because") + (d.reason or '')))
        return 0
    rows = hub.fallback_records(pending_only=args.pending)
    for r, d in rows:
        p = json.loads(r.payload)
        obj = {"device_id": r.device_id, "uuid": r.uuid, "resident": r.resident_id and r.resident_id[:6] + "********"
               + r.resident_id[-4:], "village": r.village, "method": p.get("method"), "reason": p.get("reason"),
               "detail": p.get("detail"), "operator": p.get("operator"), "relation": p.get("relation"),
               "relative_name": p.get("relative_name"),
               "relative_id": p.get("relative_id") and p["relative_id"][:6] + "********" + p["relative_id"][-4:],
               "relative_phone": p.get("relative_phone"), "occurred_at": r.occurred_at, "received_at": r.received_at,
               "time_warning": r.suspect_reason, "status": d.decision if d else "pending_review",
               "decided_by": d.by if d else None, "decided_at": d.at if d else None,
               "decision_reason": d.reason if d else None}
        _emit(obj, args.json, text("cli_fallback_line", device_id=r.device_id, uuid=r.uuid, resident=obj['resident'], method=obj['method'], reason=obj['reason'], operator=obj['operator'], status=obj['status']))
    if not args.json:
        print(text("cli_fallback_total", n=len(rows)), flush=True)
    return 0


def _set_policy(hub, value: str) -> dict:
    """Check and store the county's cycle rule (sent to terminals with the roster, judged by the hub)."""
    from kiosk.county import HubError
    from kiosk.county.cycle import set_policy

    try:
        checked = set_policy(hub, value)
    except HubError as e:
        raise _fail(e.code, e.message) from None
    hub.log_action(os.environ.get("USER") or "county-cli", "setting_cycle_policy", json.dumps(checked))
    return checked


def cmd_county_setting(args) -> int:
    hub = _hub(args)
    if args.name == "cycle_policy":  # the certification cycle rule: JSON, e.g. {"type": "birthday", "grace_days": 0}
        from kiosk.county.cycle import policy, rule_words
        from kiosk.core.cycle import rule_from_config

        if args.value is not None:
            _set_policy(hub, args.value)
        value = policy(hub)
        unset = hub.get_setting("cycle_policy") is None
        _emit({"name": args.name, "value": value, "default": unset}, args.json,
              text("cli_setting_policy", policy=json.dumps(value, ensure_ascii=False), default=text("cli_word_default") if unset else '', rule_words=rule_words(rule_from_config(value))))
        return 0
    if args.name == "share_templates":  # on | off (default on): templates enrolled at terminals go to the others
        if args.value is not None:
            if args.value not in ("on", "off"):
                raise _fail("bad_value", text("cli_bad_value"))
            hub.set_setting("share_templates", args.value == "on")
            hub.log_action(os.environ.get("USER") or "county-cli", "setting_share_templates", args.value)
        on = hub.share_templates
        _emit({"name": args.name, "value": on}, args.json, f"share_templates = {'on' if on else 'off'}")
        return 0
    known = {"clock_margin_hours": ("clock_margin_s", 3600), "bundle_valid_days": ("bundle_valid_days", 1)}
    key, scale = known[args.name]
    if args.value is not None:
        hub.set_setting(key, float(args.value) * scale if scale != 1 else int(args.value))
    value = hub.get_setting(key)
    _emit({"name": args.name, "value": value}, args.json, text("cli_setting_line", name=args.name, value=value if value is not None else text("cli_word_default")))
    return 0


def cmd_county_check(args) -> int:
    """How the hub's database is kept and whether it is intact (an encrypted county.db cannot be
    read by the sqlite3 shell: this is IT's look inside). --device: that device's records."""
    from sqlalchemy import text as sql

    hub = _hub(args)
    with hub.engine.connect() as c:
        integrity = c.execute(sql("PRAGMA integrity_check")).scalar() if hub.path else "n/a"
        cipher = c.execute(sql("PRAGMA cipher_version")).scalar() if hub.path else None
    obj: dict = {"database": str(hub.path) if hub.path else hub.engine.url.render_as_string(hide_password=True),
                 "at_rest": "sqlcipher" if hub.path else "database server", "cipher_version": cipher,
                 "integrity": integrity, "residents": hub.count_residents(), "records": hub.count_records()}
    if args.device:
        obj["device"] = {"id": args.device, "certifications": hub.certification_uuids(args.device),
                         "audit": hub.count_records(args.device, "audit")}
    where = (text("cli_check_sqlcipher", cipher=cipher) if hub.path
             else text("cli_check_server"))
    _emit(obj, args.json, text("cli_check_summary", database=obj['database'], where=where, integrity=integrity, residents=obj['residents'], records=obj['records']))
    if integrity not in ("ok", "n/a"):
        raise _fail("county_db_damaged", text("cli_county_db_damaged", integrity=integrity))
    return 0


def cmd_county_operator(args) -> int:
    """Terminal operators the county sends down with the roster (PIN hashed here, never sent or kept)."""
    from kiosk.county import HubError

    hub = _hub(args)
    actor = os.environ.get("USER") or "county-cli"
    try:
        if args.action in ("add", "disable"):
            if not args.name:
                raise _fail("operator_name_missing", text("cli_operator_name_missing"))
            existing = {o.name: o for o in hub.county_operators()}.get(args.name)
            if args.action == "add":
                hub.set_operator(args.name, args.role or "assistant", _read_pin(), village=args.village)
            elif existing is None:
                raise _fail("unknown_operator", text("cli_unknown_operator", name=args.name))
            else:
                hub.set_operator(args.name, existing.role, None, village=existing.village, active=False)
            hub.log_action(actor, "operator_" + args.action, f"{args.name} role={args.role or ''}")
            _emit({"operator": args.name, "action": args.action}, args.json,
                  text("cli_operator_saved", name=args.name, done=text("cli_word_save") if args.action == 'add' else text("cli_word_disable")))
        else:
            for o in hub.county_operators():
                _emit({"operator": o.name, "role": o.role, "village": o.village, "active": o.active}, args.json,
                      text("cli_operator_line", name=o.name, role=o.role, village=o.village or text("cli_word_whole_county"), state=text("word_active") if o.active else text("word_disabled")))
    except HubError as e:
        raise _hub_error(e) from None
    return 0


def cmd_county_enrolments(args) -> int:
    """Enrolments reviewed at terminals: who enrolled, read the consent, approved or rejected (v4)."""
    from kiosk.core.ids import mask_id

    hub = _hub(args)
    rows = hub.enrolment_records(args.resident)
    hub.log_action(os.environ.get("USER") or "county-cli", "list_enrolments", args.resident or "")
    for r, p in rows:
        obj = {"device": r.device_id, "uuid": r.uuid, "village": r.village, "resident": mask_id(r.resident_id or ""),
               "backend": p.get("backend"), "decision": p.get("decision"), "enrolled_by": p.get("enrolled_by"),
               "enrolled_by_role": p.get("enrolled_by_role"), "consent_read_by": p.get("consent_read_by"),
               "consent_at": p.get("consent_at"), "reviewed_by": p.get("reviewed_by"),
               "reviewed_by_role": p.get("reviewed_by_role"), "reviewed_at": p.get("reviewed_at"),
               "reject_reason": p.get("reject_reason"), "template": p.get("hub_template"),
               # v5: the terminal's duplicate-face check (None: a terminal before v5), masked
               "resembles_other": p.get("resembles_other"),
               "resembles": None if p.get("resembles") is None else [
                   {**m, "resident_id": mask_id(m.get("resident_id") or "")} for m in p["resembles"]],
               "resemble_confirmation": p.get("resemble_confirmation")}
        conf = obj["resemble_confirmation"]
        dup = (text("cli_enrolment_resembles", resembles_other=obj['resembles_other'])
               + (text("cli_enrolment_confirmed", reason=conf.get('reason')) if conf else "")) if obj["resembles_other"] else ""
        _emit(obj, args.json, text("cli_enrolment_line", reviewed_at=obj['reviewed_at'], device=obj['device'], resident=obj['resident'], enrolled_by=obj['enrolled_by'], enrolled_by_role=obj['enrolled_by_role'] or '?', reviewed_by=obj['reviewed_by'], reviewed_by_role=obj['reviewed_by_role'] or '?', decision=text("word_approved") if obj['decision'] == 'approved' else text("cli_word_rejected_because") + (obj['reject_reason'] or ''), template=obj['template'] or text("cli_word_not_uploaded"), dup=dup))
    if not args.json:
        print(text("cli_enrolment_total", n=len(rows)), flush=True)
    return 0


def _read_pin() -> str:
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(text("cli_new_pin"))
        if getpass.getpass(text("cli_enter_again")) != first:
            raise _fail("pin_mismatch", text("cli_pin_mismatch"))
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_county_revoke(args) -> int:
    hub = _hub(args)
    if not hub.revoke(args.device):
        raise _fail("unknown_device", text("cli_unknown_device", device=args.device))
    _emit({"device_id": args.device, "status": "revoked"}, args.json, text("cli_revoked", device=args.device))
    return 0


def cmd_county_receipt(args) -> int:
    """Is a resident's receipt genuine? The code (or the QR's text) against the registered devices' keys."""
    from kiosk.county.receipts import verify
    from kiosk.protocol import ProtocolError

    try:
        check = verify(_hub(args), args.code)
    except ProtocolError as e:
        raise _fail(e.code, e.message) from None
    _emit(check.to_json(), args.json, "\n".join(text("cli_receipt_line", label=label, value=value) for label, value in check.lines()))
    return 0


# ------------------------------------------------------------------------------ program updates
def _update_signed_fields(version: str, sha256: str, size: int) -> bytes:
    """What the signature covers: the same bytes as kiosk.update._signed_fields (terminal side)."""
    from kiosk import protocol as P

    return P.canonical_json({"format": "village-kiosk-update", "version": version, "sha256": sha256, "size": size})


def cmd_county_update(args) -> int:
    """kiosk-county update sign BUNDLE.tar.gz --version V: BUNDLE.tar.gz.sig with the hub's signing key
    (the key terminals trust for roster bundles); terminals install it with `kiosk update stage`."""
    import hashlib
    import re

    from kiosk import protocol as P
    from kiosk.county.keys import HubKeys

    if not re.match(r"^\d+(\.\d+){0,3}$", args.version or ""):
        raise _fail("update_bad_version", text("cli_update_bad_version", version=args.version))
    key = hub_key_path(args.hub_key)
    if not key.exists():
        raise _fail("hub_key", text("cli_update_hub_key_missing", key=key))
    try:
        keys = HubKeys.load_or_create(key)
    except ValueError as e:
        raise _fail("hub_key", str(e)) from None
    bundle = Path(args.file)
    h, size = hashlib.sha256(), 0
    try:
        with open(bundle, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                raise _fail("update_not_a_bundle", text("cli_update_not_a_bundle", bundle=bundle))
            f.seek(0)
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    except OSError as e:
        raise _fail("unreadable_file", text("cli_update_unreadable", bundle=bundle, error=e)) from None
    sha = h.hexdigest()
    sig = {"format": "village-kiosk-update", "version": args.version, "sha256": sha, "size": size,
           "signature": P.b64e(keys.sign.sign(_update_signed_fields(args.version, sha, size)))}
    out = bundle.with_name(bundle.name + ".sig")
    write_atomic(out, (json.dumps(sig, indent=1) + "\n").encode(), mode=0o644)
    _emit({"file": str(out), **sig}, args.json,
          text("cli_update_signed", out=out, version=args.version, sha=sha[:16], name=bundle.name))
    return 0


# ------------------------------------------------------------------------------ parser
def add_commands(sub) -> None:

    def hub_parser(name, helptext, func):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--db", help=text("cli_help_db"))
        p.add_argument("--hub-key", help=text("cli_help_hub_key"))
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
        return p

    p = hub_parser("serve", text("cli_help_serve"), cmd_county_serve)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--tls-cert", help=text("cli_help_serve_tls_cert"))
    p.add_argument("--tls-key", help=text("cli_help_serve_tls_key"))
    p.add_argument("--insecure-http", action="store_true",
                   help=text("cli_help_serve_insecure_http"))
    p.add_argument("--proxy-ips", help=text("cli_help_serve_proxy_ips"))
    p = hub_parser("user", text("cli_help_user"),
                   cmd_county_user)
    p.add_argument("action", choices=["add", "passwd", "disable", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=["admin", "operator", "viewer"])
    p = hub_parser("provision", text("cli_help_provision"), cmd_county_provision)
    p.add_argument("--village", help=text("cli_help_provision_village"))
    p.add_argument("--days", type=int, default=7)
    p = hub_parser("roster", text("cli_help_roster"), cmd_county_roster)
    p.add_argument("file")
    p.add_argument("--policy", help=text("cli_help_roster_policy"))
    p.add_argument("--county", help=text("cli_help_roster_county"))
    p = hub_parser("enrol", text("cli_help_enrol"), cmd_county_enrol)
    p.add_argument("id_number")
    p.add_argument("photos", nargs="+")
    p = hub_parser("import", text("cli_help_import"), cmd_county_import)
    p.add_argument("file")
    p = hub_parser("export", text("cli_help_export"), cmd_county_export)
    p.add_argument("--device", required=True)
    p.add_argument("--to", required=True, help=text("cli_help_export_to"))
    hub_parser("devices", text("cli_help_devices"), cmd_county_devices)
    p = hub_parser("check", text("cli_help_check"), cmd_county_check)
    p.add_argument("--device", help=text("cli_help_check_device"))
    p = hub_parser("revoke", text("cli_help_revoke"), cmd_county_revoke)
    p.add_argument("device")
    p = hub_parser("review", text("cli_help_review"), cmd_county_review)
    p.add_argument("--confirm", metavar="DEVICE:UUID", help=text("cli_help_review_confirm"))
    p.add_argument("--reject", metavar="DEVICE:UUID", help=text("cli_help_review_reject"))
    p.add_argument("--by", help=text("cli_help_review_by"))
    p = hub_parser("fallbacks", text("cli_help_fallbacks"), cmd_county_fallbacks)
    p.add_argument("action", nargs="?", choices=["approve", "reject"])
    p.add_argument("target", nargs="?", metavar="DEVICE:UUID")
    p.add_argument("--pending", action="store_true", help=text("cli_help_fallbacks_pending"))
    p.add_argument("--by", help=text("cli_help_fallbacks_by"))
    p.add_argument("--reason", help=text("cli_help_fallbacks_reason"))
    p = hub_parser("receipt", text("cli_help_receipt"), cmd_county_receipt)
    p.add_argument("action", choices=["verify"])
    p.add_argument("code", help=text("cli_help_receipt_code"))
    p = hub_parser("setting", text("cli_help_setting"),
                   cmd_county_setting)
    p.add_argument("name", choices=["clock_margin_hours", "bundle_valid_days", "share_templates", "cycle_policy"])
    p.add_argument("value", nargs="?")
    p = hub_parser("operator", text("cli_help_operator"), cmd_county_operator)
    p.add_argument("action", choices=["add", "disable", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=["assistant", "reviewer", "admin"])
    p.add_argument("--village", help=text("cli_help_operator_village"))
    p = hub_parser("enrolments", text("cli_help_enrolments"), cmd_county_enrolments)
    p.add_argument("--resident", help=text("cli_help_enrolments_resident"))
    p = hub_parser("update", text("cli_help_update"),
                   cmd_county_update)
    p.add_argument("action", choices=["sign"])
    p.add_argument("file")
    p.add_argument("--version", required=True, help=text("cli_help_update_version"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk-county", description=text("cli_help_description"))
    sub = p.add_subparsers(dest="command", required=True)
    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KioskError as e:
        _emit({"error": e.code, "message": e.message}, getattr(args, "json", False), text("cli_error", message=e.message))
        return 2


if __name__ == "__main__":
    sys.exit(main())
