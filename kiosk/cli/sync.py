"""`kiosk register | sync | export`: the terminal's side of county sync (the hub's commands are `kiosk-county`)."""
from __future__ import annotations

import signal
import sys
from pathlib import Path

from kiosk.cli.common import CliError, _emit, _open_store, bar as _bar
from kiosk.texts import text


def _store(args, *, require_key: bool = True):
    return _open_store(args, require_key=require_key)


def _daily_backup(store, settings) -> None:
    """Today's backup of kiosk.db if there is none yet; a failure is said, never fatal."""
    from kiosk.store import StoreError
    from kiosk.store.backup import ensure_daily_backup

    try:
        ensure_daily_backup(store, keep_days=settings.backup_keep_days)
    except StoreError as e:
        print(f"注意：今天的备份没有做成：{e.message}", file=sys.stderr, flush=True)


def _sync_error(e):
    return CliError(e.code, e.message)


def cmd_register(args) -> int:
    from kiosk.config import Settings
    from kiosk.sync import SyncError, register

    settings = Settings.load()
    hub_url = args.hub or settings.hub_url
    if not hub_url:
        raise CliError("usage", "请给出县里服务器地址：kiosk register --hub https://… --code 开通码")
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
    with _store(args, require_key=False) as store:  # records and roster flow without the template key
        _daily_backup(store, settings)
        if not store.has_key:
            print(f"注意：{store.key_error.message}", file=sys.stderr, flush=True)
        if args.bundle:
            try:
                res = import_county_bundle(store, Path(args.bundle))
            except SyncError as e:
                raise _sync_error(e) from None
            _emit(res, args.json, f"已导入县里的名册包：名册变更 {res['roster_changed']} 人，模板 {res['templates_changed']} 人，"
                                  f"县里确认收到 {res['acked']} 条认证记录。"
                                  + text("cli_sync_bundle_v4_summary", decisions=res["fallbacks_decided"],
                                         operators=res["operators_changed"]))
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
    lines = [f"同步完成：上传 {report.stored} 条（县里已有 {report.duplicates} 条），拒收 {report.rejected} 条；"
             f"名册变更 {report.roster_changed} 人，模板 {report.templates_changed} 人；待上传 {st['pending']} 条。"]
    if report.enrolments_queued or report.operators_changed or report.fallbacks_decided:
        lines.append(text("cli_sync_v4_summary", enrolments=report.enrolments_queued,
                          operators=report.operators_changed, decisions=report.fallbacks_decided))
    if report.held:
        lines.append(f"县里暂不计入 {report.held} 条（时间可疑，待县社保局核实）。")
    lines += [f"  {r['message']}（{r['count']} 条）" for r in st["refusals"]]
    if st["refusals"]:
        lines.append("  被拒收的记录保存在本机，不会丢失；问题解决后运行 kiosk sync --once --retry-rejected 重新上传。")
    _emit({**report.to_dict(), "pending": st["pending"], "refusals": st["refusals"]}, args.json, "\n".join(lines))
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

    from kiosk.store import StoreReadOnly

    try:
        opened = _store(args, require_key=False)  # the records need no template key
        read_only = False
    except StoreReadOnly:
        # A disk that turned read-only (e.g. after I/O errors): export from a copy in a
        # temporary folder, so the records still reach the county.
        from kiosk.cli.common import clock
        from kiosk.config import home_dir, key_file
        from kiosk.store.doctor import open_snapshot

        db = Path(args.db) if args.db else home_dir() / "kiosk.db"
        opened = open_snapshot(db, Path(args.key) if args.key else key_file(), clock=clock(args))
        read_only = True
    with opened as store:
        try:
            out, certs, audits = export_bundle(store, Path(args.to), progress=_bar("export"))
        except SyncError as e:
            raise _sync_error(e) from None
    _emit({"file": str(out), "certifications": certs, "audit": audits, "read_only_disk": read_only}, args.json,
          f"已导出到 {out}：认证记录 {certs} 条，操作记录 {audits} 条。请把文件交到县社保局导入（kiosk-county import）。"
          "县里确认前这些记录仍留在本机，会在下次联网或导入县里的名册包时确认。"
          + ("（本机磁盘是只读的：已从数据库的副本导出，本机文件没有改动；请尽快联系县社保局信息科检查磁盘。）"
             if read_only else ""))
    return 0


def add_commands(sub) -> None:
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
