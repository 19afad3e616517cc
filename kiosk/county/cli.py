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
        (warn or _warn)(f"注意：县级密钥文件 {legacy} 和数据库放在同一个文件夹里，复制数据文件夹就等于复制了密钥。"
                        f"请停止汇总服务后移到 {default}（mkdir -p -m 700 {default.parent} && mv {legacy} {default}），"
                        "并改好密钥的备份。")
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
        raise _fail("tls_key_missing", "给了 --tls-cert 也要给 --tls-key（证书的私钥文件）。")
    if not cert and not is_loopback(args.host) and not args.insecure_http:
        c, k, made = ensure_self_signed(_county_home() / "tls", args.host)
        cert, key = str(c), str(k)
        print(("已生成" if made else "使用") + f"本机自签名证书：{c}", flush=True)
    if cert:
        print(f"证书指纹（登记终端时用 --pin 输入）：{cert_pin(Path(cert).read_text())}", flush=True)
    elif args.insecure_http and not is_loopback(args.host):
        print("注意：--insecure-http 不加密，只能放在做 TLS 的反向代理后面（见 docs/county-sync.md）。", flush=True)
    if not hub.users():
        print("还没有县里工作人员账号，状态页无法登录。先运行：kiosk-county user add 用户名 --role admin", flush=True)
    scheme = "https" if cert else "http"
    print(f"县级汇总服务已启动：{scheme}://{args.host}:{args.port}/ （状态页，需登录），按 Ctrl+C 停止。", flush=True)
    serve(hub, args.host, args.port, cert, key, behind_tls_proxy=args.insecure_http and not is_loopback(args.host),
          proxy_ips=args.proxy_ips)
    return 0


def _read_password(args) -> str:
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass("新密码（至少10位）：")
        if getpass.getpass("再输入一次：") != first:
            raise _fail("password_mismatch", "两次输入的密码不一样，没有保存。")
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
                raise _fail("user_name_missing", "请给出用户名，如：kiosk-county user add 张科长 --role admin")
            role = args.role
            if args.action == "passwd":
                existing = {u.name: u for u in hub.users()}.get(args.name)
                if existing is None:
                    raise _fail("unknown_user", f"没有用户 {args.name}。")
                role = args.role or existing.role
            hub.add_user(args.name, role or "viewer", _read_password(args), replace=args.action == "passwd")
            hub.log_action(actor, "user_" + args.action, f"{args.name} role={role or 'viewer'}")
            _emit({"user": args.name, "role": role or "viewer"}, args.json,
                  f"已{'添加' if args.action == 'add' else '修改'}用户 {args.name}（{role or 'viewer'}）。"
                  "在浏览器打开县级汇总服务的地址登录。")
        elif args.action == "disable":
            if not hub.disable_user(args.name or ""):
                raise _fail("unknown_user", f"没有用户 {args.name}。")
            hub.log_action(actor, "user_disable", args.name)
            _emit({"user": args.name, "disabled": True}, args.json, f"用户 {args.name} 已停用，已登录的会话也已失效。")
        else:
            for u in hub.users():
                _emit({"user": u.name, "role": u.role, "disabled": u.disabled, "created_at": u.created_at}, args.json,
                      f"{u.name}  {u.role}  {'已停用' if u.disabled else '正常'}  建于 {u.created_at}")
    except HubError as e:
        raise _hub_error(e) from None
    return 0


def cmd_county_provision(args) -> int:
    hub = _hub(args)
    code = hub.provision(args.village, days=args.days)
    _emit({"code": code, "village": args.village, "valid_days": args.days}, args.json,
          f"开通码：{code}（{args.days} 天内有效，只能用一次）。在终端上运行：kiosk register --hub 县里地址 --code {code}")
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
    lines = [f"名册已导入：{len(load.rows)} 人（新增或变更 {changed}，无变化 {unchanged}）。"]
    if load.errors:
        lines.append(f"有 {len(load.errors)} 处问题没有导入，改好后再导入一次即可（已导入的不会重复）：")
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
        raise _fail("bad_id_number", "身份证号码无效，请核对。")
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
          args.json, f"已在县里建模：{len(vecs)} 张照片。终端下次同步时会收到（加密传送）。")
    return 0


def cmd_county_import(args) -> int:
    from kiosk.county import HubError

    hub = _hub(args)
    try:
        data = Path(args.file).read_bytes()
    except OSError:
        raise _fail("unreadable_file", f"读不出数据包文件：{args.file}") from None
    try:
        device_id, res, again = hub.import_bundle(data, progress=_bar("import"))
    except HubError as e:
        raise _hub_error(e) from None
    obj = {"device_id": device_id, "stored": res.stored, "duplicates": res.duplicates, "rejected": res.rejected,
           "errors": res.errors, "already_imported": again}
    human = (f"已导入设备 {device_id} 的数据包：新记录 {res.stored} 条，已有（重复）{res.duplicates} 条"
             + (f"，拒收 {res.rejected} 条：" + "；".join(res.errors[:5]) if res.rejected else "") + "。"
             + ("（这个数据包以前导入过，没有新增。）" if again and not res.stored else ""))
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
          f"名册包已写到 {out}。带到村里，在终端上运行：kiosk sync --bundle {out.name}")
    return 0


def cmd_county_devices(args) -> int:
    hub = _hub(args)
    for d in hub.devices():
        gaps = hub.sequence_gaps(d.id)
        obj = {"device_id": d.id, "name": d.name, "village": d.village, "status": d.status,
               "records": hub.count_records(d.id, "certification"), "audit": hub.count_records(d.id, "audit"),
               "last_seen_at": d.last_seen_at, "clock_offset_s": d.clock_offset_s, "sequence": gaps}
        gap_text = (f"  缺少序号 {gaps['missing']} 个（" + "、".join(f"{a}-{b}" if a != b else str(a)
                                                          for a, b in gaps["ranges"]) + "）") if gaps["missing"] else ""
        _emit(obj, args.json, f"{d.id}  {d.name}  {d.village or ''}  {'正常' if d.status == 'active' else '已停用'}"
                              f"  认证记录 {obj['records']} 条  最近联系 {d.last_seen_at or '从未'}{gap_text}")
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
              f"记录 {uuid} 已{'确认，计入认证状态' if decision == 'confirmed' else '驳回，不计入认证状态'}。")
        return 0
    rows = hub.suspect_records()
    for r in rows:
        obj = {"device_id": r.device_id, "uuid": r.uuid, "resident": r.resident_id and r.resident_id[:6] + "********"
               + r.resident_id[-4:], "kind": r.kind, "occurred_at": r.occurred_at, "received_at": r.received_at,
               "reason": r.suspect_reason}
        _emit(obj, args.json, f"{r.device_id}:{r.uuid}  {r.kind}  记录时间 {r.occurred_at}  县里收到 {r.received_at}"
                              f"  时间可疑：{r.suspect_reason}")
    if not args.json:
        print(f"共 {len(rows)} 条待核实。核实后运行：kiosk-county review --confirm 设备编号:记录编号"
              f"（或 --reject 设备编号:记录编号）", flush=True)
    return 0


def cmd_county_fallbacks(args) -> int:
    """Certifications without a face (工作人员核实认证 / 亲属承诺): list; approve or reject one (DEVICE:UUID)."""
    from kiosk.county import HubError

    hub = _hub(args)
    if args.action:
        if not args.target or ":" not in args.target:
            raise _hub_error(HubError("usage", "请写明记录：kiosk-county fallbacks approve 设备编号:记录编号 --by 审核人。"))
        if not args.by:
            raise _hub_error(HubError("usage", "请写明审核人（--by 用户名）。"))
        device_id, _, uuid = args.target.partition(":")
        decision = "approved" if args.action == "approve" else "rejected"
        try:
            d = hub.decide_fallback(device_id, uuid, decision, args.by, args.reason)
        except HubError as e:
            raise _hub_error(e) from None
        hub.log_action(args.by, "fallback_" + decision, f"{device_id}:{uuid}")
        _emit({"device_id": device_id, "uuid": uuid, "decision": decision, "by": d.by, "at": d.at,
               "reason": d.reason, "certified_on": d.certified_on}, args.json,
              f"记录 {uuid} 已{'通过，认证日期 ' + (d.certified_on or '') if decision == 'approved' else '驳回：' + (d.reason or '')}。")
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
        _emit(obj, args.json, f"{r.device_id}:{r.uuid}  {obj['resident']}  {obj['method']}  {obj['reason']}"
                              f"  核实人 {obj['operator']}  {obj['status']}")
    if not args.json:
        print(f"共 {len(rows)} 条。审核：kiosk-county fallbacks approve 设备编号:记录编号 --by 审核人"
              f"（或 reject … --reason 原因）", flush=True)
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
              f"cycle_policy = {json.dumps(value, ensure_ascii=False)}{'（默认）' if unset else ''}\n"
              f"{rule_words(rule_from_config(value))}")
        return 0
    if args.name == "share_templates":  # on | off (default on): templates enrolled at terminals go to the others
        if args.value is not None:
            if args.value not in ("on", "off"):
                raise _fail("bad_value", "share_templates 只能设为 on（共享，默认）或 off（不共享）。")
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
    _emit({"name": args.name, "value": value}, args.json, f"{args.name} = {value if value is not None else '（默认）'}")
    return 0


def cmd_county_check(args) -> int:
    """How the hub's database is kept and whether it is intact (an encrypted county.db cannot be
    read by the sqlite3 shell: this is IT's look inside). --device: that device's records."""
    from sqlalchemy import text

    hub = _hub(args)
    with hub.engine.connect() as c:
        integrity = c.execute(text("PRAGMA integrity_check")).scalar() if hub.path else "n/a"
        cipher = c.execute(text("PRAGMA cipher_version")).scalar() if hub.path else None
    obj: dict = {"database": str(hub.path) if hub.path else hub.engine.url.render_as_string(hide_password=True),
                 "at_rest": "sqlcipher" if hub.path else "database server", "cipher_version": cipher,
                 "integrity": integrity, "residents": hub.count_residents(), "records": hub.count_records()}
    if args.device:
        obj["device"] = {"id": args.device, "certifications": hub.certification_uuids(args.device),
                         "audit": hub.count_records(args.device, "audit")}
    where = (f"SQLite 整个文件用 SQLCipher {cipher} 加密" if hub.path
             else "数据库服务器（PostgreSQL：静态加密由数据库服务器负责）")
    _emit(obj, args.json, f"县级数据库：{obj['database']}，{where}；完整性检查：{integrity}；"
                          f"居民 {obj['residents']} 人，记录 {obj['records']} 条。")
    if integrity not in ("ok", "n/a"):
        raise _fail("county_db_damaged", f"县级数据库完整性检查没有通过（{integrity}）。请停止汇总服务，从备份恢复。")
    return 0


def cmd_county_operator(args) -> int:
    """Terminal operators the county sends down with the roster (PIN hashed here, never sent or kept)."""
    from kiosk.county import HubError

    hub = _hub(args)
    actor = os.environ.get("USER") or "county-cli"
    try:
        if args.action in ("add", "disable"):
            if not args.name:
                raise _fail("operator_name_missing", "请给出操作员名字，如：kiosk-county operator add 李协理 --role assistant")
            existing = {o.name: o for o in hub.county_operators()}.get(args.name)
            if args.action == "add":
                hub.set_operator(args.name, args.role or "assistant", _read_pin(), village=args.village)
            elif existing is None:
                raise _fail("unknown_operator", f"没有操作员 {args.name}。")
            else:
                hub.set_operator(args.name, existing.role, None, village=existing.village, active=False)
            hub.log_action(actor, "operator_" + args.action, f"{args.name} role={args.role or ''}")
            _emit({"operator": args.name, "action": args.action}, args.json,
                  f"操作员 {args.name} 已{'保存' if args.action == 'add' else '停用'}，终端下次同步或导入名册包后生效。")
        else:
            for o in hub.county_operators():
                _emit({"operator": o.name, "role": o.role, "village": o.village, "active": o.active}, args.json,
                      f"{o.name}  {o.role}  {o.village or '全县'}  {'正常' if o.active else '已停用'}")
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
        dup = (f"  像本终端另 {obj['resembles_other']} 人"
               + (f"，审核人已核实不是同一人：{conf.get('reason')}" if conf else "")) if obj["resembles_other"] else ""
        _emit(obj, args.json, f"{obj['reviewed_at']}  {obj['device']}  {obj['resident']}  "
                              f"建模 {obj['enrolled_by']}（{obj['enrolled_by_role'] or '?'}）  "
                              f"审核 {obj['reviewed_by']}（{obj['reviewed_by_role'] or '?'}）  "
                              f"{'通过' if obj['decision'] == 'approved' else '驳回：' + (obj['reject_reason'] or '')}  "
                              f"模板：{obj['template'] or '未上传'}{dup}")
    if not args.json:
        print(f"共 {len(rows)} 条。", flush=True)
    return 0


def _read_pin() -> str:
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass("口令（至少6位数字）：")
        if getpass.getpass("再输入一次：") != first:
            raise _fail("pin_mismatch", "两次输入的口令不一样，没有保存。")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_county_revoke(args) -> int:
    hub = _hub(args)
    if not hub.revoke(args.device):
        raise _fail("unknown_device", f"没有设备 {args.device}。用 kiosk-county devices 查看设备编号。")
    _emit({"device_id": args.device, "status": "revoked"}, args.json, f"设备 {args.device} 已停用，它的请求和数据包都将被拒绝。")
    return 0


def cmd_county_receipt(args) -> int:
    """Is a resident's receipt genuine? The code (or the QR's text) against the registered devices' keys."""
    from kiosk.county.receipts import verify
    from kiosk.protocol import ProtocolError

    try:
        check = verify(_hub(args), args.code)
    except ProtocolError as e:
        raise _fail(e.code, e.message) from None
    _emit(check.to_json(), args.json, "\n".join(f"{label}：{value}" for label, value in check.lines()))
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
        raise _fail("update_bad_version", f"版本号不对（{args.version}），应为 1.2.3 这样的数字。")
    key = hub_key_path(args.hub_key)
    if not key.exists():
        raise _fail("hub_key", f"找不到县级密钥文件 {key}：更新包必须用登记终端时的同一把密钥签名。请用 --hub-key 指定。")
    try:
        keys = HubKeys.load_or_create(key)
    except ValueError as e:
        raise _fail("hub_key", str(e)) from None
    bundle = Path(args.file)
    h, size = hashlib.sha256(), 0
    try:
        with open(bundle, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                raise _fail("update_not_a_bundle", f"{bundle} 不是 .tar.gz 更新包（tar -czf 包名.tar.gz -C dist/village-kiosk .）。")
            f.seek(0)
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    except OSError as e:
        raise _fail("unreadable_file", f"读不出更新包 {bundle}：{e}") from None
    sha = h.hexdigest()
    sig = {"format": "village-kiosk-update", "version": args.version, "sha256": sha, "size": size,
           "signature": P.b64e(keys.sign.sign(_update_signed_fields(args.version, sha, size)))}
    out = bundle.with_name(bundle.name + ".sig")
    write_atomic(out, (json.dumps(sig, indent=1) + "\n").encode(), mode=0o644)
    _emit({"file": str(out), **sig}, args.json,
          f"已签名：{out}（版本 {args.version}，sha256 {sha[:16]}…）。把更新包和这个 .sig 一起拷到终端，"
          f"运行：kiosk update stage {bundle.name}")
    return 0


# ------------------------------------------------------------------------------ parser
def add_commands(sub) -> None:

    def hub_parser(name, helptext, func):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--db", help="县级数据库 URL（默认 sqlite:///$KIOSK_HOME/county/county.db；"
                                    "PostgreSQL：postgresql+psycopg://用户@主机/库）")
        p.add_argument("--hub-key", help="县级密钥文件（默认 ~/.config/village-kiosk-county/hub.key，"
                                         "不放在数据文件夹里；也可用 KIOSK_HUB_KEY 指定）")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
        return p

    p = hub_parser("serve", "启动县级汇总服务（接口 /v1，状态页 /）", cmd_county_serve)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--tls-cert", help="TLS 证书（PEM）；不给且 --host 不是本机时，自动生成自签名证书")
    p.add_argument("--tls-key", help="TLS 私钥（PEM）")
    p.add_argument("--insecure-http", action="store_true",
                   help="不加密（只用于做 TLS 的反向代理后面，见 docs/county-sync.md）")
    p.add_argument("--proxy-ips", help="反向代理的地址（信任它的 X-Forwarded-For，限流按真实来源计）")
    p = hub_parser("user", "县里工作人员账号：add / passwd / disable / list（密码从终端输入或标准输入，不在命令行）",
                   cmd_county_user)
    p.add_argument("action", choices=["add", "passwd", "disable", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=["admin", "operator", "viewer"])
    p = hub_parser("provision", "生成一次性开通码（终端登记用）", cmd_county_provision)
    p.add_argument("--village", help="这台终端所在的村（只下发该村名册）")
    p.add_argument("--days", type=int, default=7)
    p = hub_parser("roster", "导入名册（CSV 或 XLSX）", cmd_county_roster)
    p.add_argument("file")
    p.add_argument("--policy", help='认证周期规则 JSON，如 {"type": "birthday", "grace_days": 0}')
    p.add_argument("--county", help="县社保局名称（显示在状态页和终端上）")
    p = hub_parser("enrol", "在县里为居民建模（照片只在县里处理，只保存加密的特征）", cmd_county_enrol)
    p.add_argument("id_number")
    p.add_argument("photos", nargs="+")
    p = hub_parser("import", "导入终端用 U 盘带来的数据包", cmd_county_import)
    p.add_argument("file")
    p = hub_parser("export", "为某台终端导出名册包（带到村里导入）", cmd_county_export)
    p.add_argument("--device", required=True)
    p.add_argument("--to", required=True, help="目标文件夹（如 U 盘）")
    hub_parser("devices", "列出登记的终端设备", cmd_county_devices)
    p = hub_parser("check", "查看县级数据库：是否加密、完整性检查、人数和记录数", cmd_county_check)
    p.add_argument("--device", help="列出这台设备的认证记录编号（核对用）")
    p = hub_parser("revoke", "停用一台终端", cmd_county_revoke)
    p.add_argument("device")
    p = hub_parser("review", "时间可疑（clock_suspect）的记录：列出、确认或驳回", cmd_county_review)
    p.add_argument("--confirm", metavar="DEVICE:UUID", help="确认这条记录的时间无误，计入认证状态")
    p.add_argument("--reject", metavar="DEVICE:UUID", help="驳回这条记录，不计入认证状态")
    p.add_argument("--by", help="核实人（默认当前系统用户）")
    p = hub_parser("fallbacks", "不刷脸认证（工作人员核实认证、亲属承诺）：列出、通过或驳回", cmd_county_fallbacks)
    p.add_argument("action", nargs="?", choices=["approve", "reject"])
    p.add_argument("target", nargs="?", metavar="DEVICE:UUID")
    p.add_argument("--pending", action="store_true", help="只列待审核的")
    p.add_argument("--by", help="审核人（县里的用户名）")
    p.add_argument("--reason", help="驳回原因（驳回时必填）")
    p = hub_parser("receipt", "核验居民的认证回执：kiosk-county receipt verify 验证码（或二维码内容）", cmd_county_receipt)
    p.add_argument("action", choices=["verify"])
    p.add_argument("code", help="回执上的 28 位验证码（横线可有可无），或扫描二维码得到的文字")
    p = hub_parser("setting", "查看或修改县级设置：clock_margin_hours（默认24）、bundle_valid_days（默认30）、share_templates on|off（默认on）、"
                              "cycle_policy 认证周期规则（JSON，默认 {\"type\": \"birthday\", \"grace_days\": 0}；随名册下发到终端，县里的名单和统计也按它算）",
                   cmd_county_setting)
    p.add_argument("name", choices=["clock_margin_hours", "bundle_valid_days", "share_templates", "cycle_policy"])
    p.add_argument("value", nargs="?")
    p = hub_parser("operator", "终端操作员随名册下发：add 名字 --role assistant|reviewer|admin [--village 村]"
                               "（口令从标准输入读一行，只存散列）/ disable 名字 / list", cmd_county_operator)
    p.add_argument("action", choices=["add", "disable", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=["assistant", "reviewer", "admin"])
    p.add_argument("--village", help="只发给这个村的终端（默认全县）")
    p = hub_parser("enrolments", "终端建模记录：谁建模、谁宣读告知同意、谁审核通过或驳回、模板是否上传", cmd_county_enrolments)
    p.add_argument("--resident", help="只看这个身份证号")
    p = hub_parser("update", "程序更新：sign 更新包.tar.gz --version 版本（用县级密钥签名，终端在维护时间安装）",
                   cmd_county_update)
    p.add_argument("action", choices=["sign"])
    p.add_argument("file")
    p.add_argument("--version", required=True, help="更新包里程序的版本，如 0.2.0（终端只装比现有新的）")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk-county", description="县级汇总服务：启动、导入名册/数据包、建模、发开通码")
    sub = p.add_subparsers(dest="command", required=True)
    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KioskError as e:
        _emit({"error": e.code, "message": e.message}, getattr(args, "json", False), f"错误：{e.message}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
