"""`kiosk doctor`: check the database, the template key, the disk and the backups; salvage a
damaged or empty kiosk.db into a fresh one (the old file is renamed, never deleted)."""
from __future__ import annotations

from pathlib import Path

from kiosk.cli.common import _emit


def cmd_doctor(args) -> int:
    from kiosk.config import home_dir, key_file
    from kiosk.store import doctor

    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    key = Path(args.key) if args.key else key_file()
    report = doctor.check(db, key) if args.check_only else doctor.repair(db, key)
    _emit(report.to_dict(), args.json, doctor.human(report))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("doctor", help="检查数据库、密钥、磁盘和备份；数据库损坏时抢救记录（原文件保留）")
    p.add_argument("--db", help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
    p.add_argument("--key", help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
    p.add_argument("--check-only", action="store_true", help="只检查，不抢救、不改动任何文件")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
