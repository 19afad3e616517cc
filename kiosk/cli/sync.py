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
        print(text("cli_backup_failed", message=e.message), file=sys.stderr, flush=True)


def _sync_error(e):
    return CliError(e.code, e.message)


def cmd_register(args) -> int:
    from kiosk.config import Settings
    from kiosk.sync import SyncError, register

    settings = Settings.load()
    hub_url = args.hub or settings.hub_url
    if not hub_url:
        raise CliError("usage", text("cli_register_no_hub"))
    with _store(args) as store:
        try:
            ident = register(store, hub_url, args.code, args.name or settings.device_id,
                             pin=args.pin or settings.hub_cert_pin or None)
        except SyncError as e:
            raise _sync_error(e) from None
    _emit({"device_id": ident.device_id, "village": ident.village, "county": ident.county}, args.json,
          text("cli_registered", device=ident.device_id, county=ident.county, village=ident.village or ""))
    return 0


def cmd_sync(args) -> int:
    from kiosk.config import Settings
    from kiosk.sync import SyncError, import_county_bundle, status, sync_once

    settings = Settings.load()
    with _store(args, require_key=False) as store:  # records and roster flow without the template key
        _daily_backup(store, settings)
        if not store.has_key:
            print(text("cli_note", message=store.key_error.message), file=sys.stderr, flush=True)
        if args.bundle:
            try:
                res = import_county_bundle(store, Path(args.bundle))
            except SyncError as e:
                raise _sync_error(e) from None
            _emit(res, args.json, text("cli_bundle_imported", roster=res["roster_changed"],
                                       templates=res["templates_changed"], acked=res["acked"])
                                  + text("cli_sync_bundle_v4_summary", decisions=res["fallbacks_decided"],
                                         operators=res["operators_changed"]))
            return 0
        if args.retry_rejected:
            from kiosk.store.syncstate import SyncState

            n = SyncState(store).retry_rejected()
            print(text("cli_retry_rejected", n=n), file=sys.stderr, flush=True)
        if not args.once:
            return _sync_forever(args, settings)
        try:
            report = sync_once(store, args.hub or settings.hub_url or None, timeout=args.timeout, batch=args.batch,
                               progress=_bar("sync"))
        except SyncError as e:
            raise _sync_error(e) from None
        st = status(store)
    lines = [text("cli_sync_done", stored=report.stored, duplicates=report.duplicates, rejected=report.rejected,
                  roster=report.roster_changed, templates=report.templates_changed, pending=st["pending"])]
    if report.enrolments_queued or report.operators_changed or report.fallbacks_decided:
        lines.append(text("cli_sync_v4_summary", enrolments=report.enrolments_queued,
                          operators=report.operators_changed, decisions=report.fallbacks_decided))
    if report.held:
        lines.append(text("cli_sync_held", n=report.held))
    lines += ["  " + text("cli_sync_refusal", message=r["message"], n=r["count"]) for r in st["refusals"]]
    if st["refusals"]:
        lines.append("  " + text("cli_sync_refused_kept"))
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
    print(text("cli_sync_background", s=bg.interval_s), flush=True)
    bg.start()
    try:
        seen = 0
        while not done.wait(1.0):
            if bg.passes != seen:
                seen = bg.passes
                if bg.last_error:
                    print(text("cli_sync_failed", message=bg.last_error.message), flush=True)
                elif bg.last_report:
                    r = bg.last_report
                    print(text("cli_sync_pass", stored=r.stored, roster=r.roster_changed), flush=True)
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
          text("cli_exported", path=out, certs=certs, audits=audits)
          + (text("cli_exported_read_only") if read_only else ""))
    return 0


def add_commands(sub) -> None:
    def terminal_parser(name, helptext, func):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--db", help=text("cli_help_db"))
        p.add_argument("--key", help=text("cli_help_key"))
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)
        return p

    p = terminal_parser("register", text("cli_help_register"), cmd_register)
    p.add_argument("--hub", help=text("cli_help_register_hub"))
    p.add_argument("--code", required=True, help=text("cli_help_register_code"))
    p.add_argument("--pin", help=text("cli_help_register_pin"))
    p.add_argument("--name", help=text("cli_help_register_name"))
    p = terminal_parser("sync", text("cli_help_sync"), cmd_sync)
    p.add_argument("--once", action="store_true")
    p.add_argument("--bundle", help=text("cli_help_sync_bundle"))
    p.add_argument("--hub", help=text("cli_help_sync_hub"))
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("--batch", type=int, default=500, help=text("cli_help_sync_batch"))
    p.add_argument("--retry-rejected", action="store_true", help=text("cli_help_sync_retry_rejected"))
    p = terminal_parser("export", text("cli_help_export"), cmd_export)
    p.add_argument("--to", required=True, help=text("cli_help_export_to"))
