"""`kiosk doctor`: check the database, the template key, the disk and the backups; salvage a
damaged or empty kiosk.db into a fresh one (the old file is renamed, never deleted)."""
from __future__ import annotations

from pathlib import Path

from kiosk.cli.common import _emit
from kiosk.texts import text


def cmd_doctor(args) -> int:
    from kiosk.config import home_dir, key_file
    from kiosk.store import doctor

    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    key = Path(args.key) if args.key else key_file()
    report = doctor.check(db, key) if args.check_only else doctor.repair(db, key)
    _emit(report.to_dict(), args.json, doctor.human(report))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("doctor", help=text("cli_help_doctor"))
    p.add_argument("--db", help=text("cli_help_db"))
    p.add_argument("--key", help=text("cli_help_key"))
    p.add_argument("--check-only", action="store_true", help=text("cli_help_doctor_check_only"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
