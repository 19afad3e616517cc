"""`kiosk selftest`: camera, audio, disk, database, template key, clock, roster, county, printer.

Exit 0 when a resident could certify now (warnings allowed), 1 when something a resident needs
is broken (the app then shows 本机暂停服务), 2 for bad input. Looks only: it never creates a
database or a key (a missing kiosk.db is reported as broken)."""
from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.cli.common import _emit, clock
from kiosk.texts import text


def cmd_selftest(args) -> int:
    from kiosk.config import Settings, home_dir, key_file
    from kiosk.selftest import human, run_selftest
    from kiosk.store import Store, StoreError

    settings = Settings.load()
    clk = clock(args)
    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    key = Path(args.key) if args.key else key_file()
    store, error = None, None
    if not db.is_file() or db.stat().st_size == 0:
        error = StoreError("missing", str(db))
    else:
        try:
            store = Store.open(db, key, clock=clk, require_key=False)
        except StoreError as e:
            error = e
    camera: int | str | bool | None = False if args.no_camera else args.camera
    try:
        report = run_selftest(settings, store, clk, camera=camera, face=args.face, store_error=error, db_path=db)
    finally:
        if store is not None:
            store.close()
    _emit(report.to_json(), args.json, human(report))
    return 1 if report.paused else 0


def add_commands(sub) -> None:
    p = sub.add_parser("selftest", help=text("cli_help_selftest"))
    p.add_argument("--camera", help=text("cli_help_selftest_camera"))
    p.add_argument("--no-camera", action="store_true", help=text("cli_help_selftest_no_camera"))
    p.add_argument("--face", action="store_true", help=text("cli_help_selftest_face"))
    p.add_argument("--db", help=text("cli_help_db"))
    p.add_argument("--key", help=text("cli_help_key"))
    p.add_argument("--today", help=argparse.SUPPRESS)  # tests: the service area's day
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_selftest)

