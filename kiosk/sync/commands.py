"""`kiosk county …`, `kiosk register`, `kiosk sync`, `kiosk export`: the county-sync commands.

Registered into kiosk.cli by `add_commands(sub)`. Errors are raised as kiosk.cli.CliError
(exit 2, one line; {"error", "message"} under --json).
"""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path


def _cli():
    from kiosk import cli

    return cli


def _fail(code: str, message: str):
    return _cli().CliError(code, message)


def _emit(obj: dict, as_json: bool, human: str) -> None:
    _cli()._emit(obj, as_json, human)


def _bar(desc: str):
    """A tqdm progress callback (stage, done, total) on stderr; silent when not a terminal."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

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


# ------------------------------------------------------------------------------ hub side
def _county_home() -> Path:
    from kiosk.config import home_dir

    return home_dir() / "county"


def _hub(args):
    from kiosk.county import open_hub

    home = _county_home()
    url = args.db or os.environ.get("KIOSK_COUNTY_DB") or f"sqlite:///{home / 'county.db'}"
    key = Path(args.hub_key or os.environ.get("KIOSK_HUB_KEY") or home / "hub.key")
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    try:
        return open_hub(url, key)
    except ValueError as e:
        raise _fail("hub_key", str(e)) from None


def _hub_error(e):
    return _fail(e.code, e.message)


def cmd_county_serve(args) -> int:
    from kiosk.county.server import serve
    from kiosk.sync.client import cert_pin

    hub = _hub(args)
    if args.tls_cert:
        pem = Path(args.tls_cert).read_text()
        print(f"证书指纹（登记终端时用 --pin 输入）：{cert_pin(pem)}", flush=True)
    elif args.host not in ("127.0.0.1", "localhost", "::1"):
        print("注意：没有 --tls-cert，只能给本机测试用；终端只接受 https 连接县里的服务器。", flush=True)
    scheme = "https" if args.tls_cert else "http"
    print(f"县级汇总服务已启动：{scheme}://{args.host}:{args.port}/ （状态页），接口文档 /docs，按 Ctrl+C 停止。", flush=True)
    serve(hub, args.host, args.port, args.tls_cert, args.tls_key)
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
    load = load_roster(Path(args.file))
    changed, unchanged = hub.upsert_residents(load.rows) if load.rows else (0, 0)
    if args.policy:
        hub.set_setting("cycle_policy", json.loads(args.policy))
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
    from kiosk.protocol import normalize_id, valid_id_number

    rid = normalize_id(args.id_number)
    if not valid_id_number(rid):
        raise _fail("bad_id_number", "身份证号码无效，请核对。")
    try:
        make = _cli()._photo_encoder
    except AttributeError:
        from kiosk.faces import PhotoEncoder as make
    enc = make()
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
    _emit({"resident": rid[:6] + "********" + rid[-4:], "templates": len(vecs), "backend": backend, "version": version},
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
    from kiosk.sync.engine import _write_atomic

    hub = _hub(args)
    try:
        data = hub.export_roster_bundle(args.device)
    except HubError as e:
        raise _hub_error(e) from None
    out_dir = Path(args.to)
    out_dir.mkdir(parents=True, exist_ok=True)
    from datetime import datetime, timezone

    out = out_dir / f"county-{args.device}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}.bundle"
    _write_atomic(out, data)
    _emit({"file": str(out), "bytes": len(data)}, args.json,
          f"名册包已写到 {out}。带到村里，在终端上运行：kiosk sync --bundle {out.name}")
    return 0


def cmd_county_devices(args) -> int:
    hub = _hub(args)
    for d in hub.devices():
        obj = {"device_id": d.id, "name": d.name, "village": d.village, "status": d.status,
               "records": hub.count_records(d.id, "certification"), "audit": hub.count_records(d.id, "audit"),
               "last_seen_at": d.last_seen_at}
        _emit(obj, args.json, f"{d.id}  {d.name}  {d.village or ''}  {'正常' if d.status == 'active' else '已停用'}"
                              f"  认证记录 {obj['records']} 条  最近联系 {d.last_seen_at or '从未'}")
    return 0


def cmd_county_revoke(args) -> int:
    hub = _hub(args)
    if not hub.revoke(args.device):
        raise _fail("unknown_device", f"没有设备 {args.device}。用 kiosk county devices 查看设备编号。")
    _emit({"device_id": args.device, "status": "revoked"}, args.json, f"设备 {args.device} 已停用，它的请求和数据包都将被拒绝。")
    return 0


# ------------------------------------------------------------------------------ terminal side
def _store(args):
    return _cli()._open_store(args)


def _sync_error(e):
    return _fail(e.code, e.message)


def cmd_register(args) -> int:
    from kiosk.config import Settings
    from kiosk.sync import SyncError, register

    settings = Settings.load()
    hub_url = args.hub or settings.hub_url
    if not hub_url:
        raise _fail("usage", "请给出县里服务器地址：kiosk register --hub https://… --code 开通码")
    with _store(args) as store:
        try:
            ident = register(store, hub_url, args.code, args.name or settings.device_id,
                             pin=args.pin or settings.hub_cert_pin or None)
        except SyncError as e:
            raise _sync_error(e) from None
    _emit({"device_id": ident.device_id, "village": ident.village, "county": ident.county}, args.json,
          f"登记成功：本机设备编号 {ident.device_id}（{ident.county}{ident.village or ''}）。下一步：kiosk sync --once")
    return 0


def cmd_sync(args) -> int:
    from kiosk.config import Settings
    from kiosk.sync import SyncError, import_county_bundle, status, sync_once

    settings = Settings.load()
    with _store(args) as store:
        if args.bundle:
            try:
                res = import_county_bundle(store, Path(args.bundle))
            except SyncError as e:
                raise _sync_error(e) from None
            _emit(res, args.json, f"已导入县里的名册包：名册变更 {res['roster_changed']} 人，模板 {res['templates_changed']} 人，"
                                  f"县里确认收到 {res['acked']} 条认证记录。")
            return 0
        if args.retry_rejected:
            from kiosk.store.syncstate import SyncState

            n = SyncState(store).retry_rejected()
            print(f"县里拒收过的 {n} 条记录将重新上传。", file=sys.stderr, flush=True)
        if not args.once:
            return _sync_forever(args, settings)
        try:
            report = sync_once(store, args.hub or settings.hub_url or None, timeout=args.timeout, batch=args.batch,
                               progress=_bar("sync"))
        except SyncError as e:
            raise _sync_error(e) from None
        st = status(store)
    _emit({**report.to_dict(), "pending": st["pending"]}, args.json,
          f"同步完成：上传 {report.stored} 条（县里已有 {report.duplicates} 条），拒收 {report.rejected} 条；"
          f"名册变更 {report.roster_changed} 人，模板 {report.templates_changed} 人；待上传 {st['pending']} 条。")
    return 0


def _sync_forever(args, settings) -> int:
    import threading

    from kiosk.config import home_dir, key_file
    from kiosk.sync import BackgroundSync

    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    bg = BackgroundSync(db, Path(args.key) if args.key else key_file(), settings, hub_url=args.hub)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"后台同步已开始（每 {bg.interval_s:.0f} 秒一次，失败后逐步延长重试间隔），按 Ctrl+C 停止。", flush=True)
    bg.start()
    try:
        seen = 0
        while not done.wait(1.0):
            if bg.passes != seen:
                seen = bg.passes
                if bg.last_error:
                    print(f"同步失败：{bg.last_error.message}", flush=True)
                elif bg.last_report:
                    r = bg.last_report
                    print(f"同步完成：上传 {r.stored} 条，名册变更 {r.roster_changed} 人。", flush=True)
    except KeyboardInterrupt:
        pass
    bg.stop()
    return 0


def cmd_export(args) -> int:
    from kiosk.sync import SyncError, export_bundle

    with _store(args) as store:
        try:
            out, certs, audits = export_bundle(store, Path(args.to), progress=_bar("export"))
        except SyncError as e:
            raise _sync_error(e) from None
    _emit({"file": str(out), "certifications": certs, "audit": audits}, args.json,
          f"已导出到 {out}：认证记录 {certs} 条，操作记录 {audits} 条。请把文件交到县社保局导入（kiosk county import）。"
          "县里确认前这些记录仍留在本机，会在下次联网或导入县里的名册包时确认。")
    return 0


# ------------------------------------------------------------------------------ parser
def add_commands(sub) -> None:
    c = sub.add_parser("county", help="县级汇总服务：启动、导入名册/数据包、建模、发开通码")
    csub = c.add_subparsers(dest="county_command", required=True)

    def hub_parser(name, helptext, func):
        p = csub.add_parser(name, help=helptext)
        p.add_argument("--db", help="县级数据库 URL（默认 sqlite:///$KIOSK_HOME/county/county.db；"
                                    "PostgreSQL：postgresql+psycopg://用户@主机/库）")
        p.add_argument("--hub-key", help="县级密钥文件（默认 $KIOSK_HOME/county/hub.key）")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
        return p

    p = hub_parser("serve", "启动县级汇总服务（接口 /v1，状态页 /）", cmd_county_serve)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--tls-cert", help="TLS 证书（PEM）")
    p.add_argument("--tls-key", help="TLS 私钥（PEM）")
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
    p = hub_parser("revoke", "停用一台终端", cmd_county_revoke)
    p.add_argument("device")

    def terminal_parser(name, helptext, func):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--db", help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
        p.add_argument("--key", help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
        return p

    p = terminal_parser("register", "用开通码把本机登记到县里（只需一次）", cmd_register)
    p.add_argument("--hub", help="县里服务器地址（默认取设置 hub_url）")
    p.add_argument("--code", required=True, help="县社保局给的开通码")
    p.add_argument("--pin", help="县里服务器证书指纹（https 时必填）")
    p.add_argument("--name", help="本机名称（默认取设置 device_id）")
    p = terminal_parser("sync", "与县里同步（--once 同步一次；--bundle 导入县里的名册包）", cmd_sync)
    p.add_argument("--once", action="store_true")
    p.add_argument("--bundle", help="县里导出的名册包文件（无网络时用 U 盘）")
    p.add_argument("--hub", help="县里服务器地址（默认取登记时的地址）")
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("--batch", type=int, default=500, help="每批上传条数（默认 500）")
    p.add_argument("--retry-rejected", action="store_true", help="县里升级后，把拒收过的记录重新上传")
    p = terminal_parser("export", "把未确认的记录导出成数据包（无网络时用 U 盘带到县里）", cmd_export)
    p.add_argument("--to", required=True, help="目标文件夹（如 U 盘）")
