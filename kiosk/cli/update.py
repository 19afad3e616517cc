"""`kiosk update`: program updates signed by the county (kiosk.update).

    kiosk update stage FILE [--json]     verify FILE + FILE.sig against the county key, keep it for the window
    kiosk update status [--json]         the staged version, the installed one, when it will be installed
    kiosk update verify-staged [--json]  exit 0 when the staged update may be installed now (the start
                                         wrapper packaging/systemd/village-kiosk-start asks this), 2 otherwise
"""
from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.cli.common import _emit, _open_store, clock
from kiosk.texts import text


def _hub_sign_pub(args) -> str:
    """The county's public signing key stored at registration (never creates a database)."""
    from kiosk.config import home_dir
    from kiosk.update import UpdateError

    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    if not db.is_file():
        raise UpdateError("update_not_registered")
    store = _open_store(args, require_key=False)
    try:
        row = store.db.execute("SELECT hub_sign_pub FROM sync_identity WHERE id = 1").fetchone()
    finally:
        store.close()
    if not row or not row[0]:
        raise UpdateError("update_not_registered")
    return str(row[0])


def _window(args) -> dict:
    from kiosk.config import Settings
    from kiosk.maintenance import parse_schedule, schedule_in_force, status

    from kiosk.config import home_dir

    settings = Settings.load()
    db = Path(args.db) if args.db else home_dir() / "kiosk.db"
    try:
        if not db.is_file():  # never creates a database: kiosk.toml's schedule then
            raise FileNotFoundError(db)
        store = _open_store(args, require_key=False)
    except Exception:  # noqa: BLE001 - status works without a database (kiosk.toml's schedule)
        return status(clock(args).now(), parse_schedule(getattr(settings, "maintenance_window", "")))
    try:
        return status(clock(args).now(), schedule_in_force(store, settings))
    finally:
        store.close()


def _when(w: dict) -> str:
    if w.get("active"):
        return text("update_window_now")
    start = w.get("next_start")
    return start[:16].replace("T", " ") if start else text("update_window_none")


def _updates(args) -> Path:
    from kiosk.update import updates_dir

    return Path(args.updates) if getattr(args, "updates", None) else updates_dir()


def cmd_stage(args) -> int:
    from kiosk.update import stage

    v = stage(Path(args.file), _hub_sign_pub(args), _updates(args))
    w = _window(args)
    _emit({"staged": v.version, "sha256": v.sha256, "size": v.size, "window": w}, args.json,
          text("update_staged", version=v.version, window=_when(w)))
    return 0


def cmd_status(args) -> int:
    from kiosk.update import status

    w = _window(args)
    s = status(_updates(args), w)
    lines = [text("update_status_staged", version=s["staged"], installed=s["installed"] or "-", window=_when(w))
             if s["staged"] else text("update_status_none", installed=s["installed"] or "-")]
    if s["rollback"]:
        r = s["rollback"]
        lines.append(text("update_rolled_back", version=r.get("version", "?"), status=r.get("status", "?"),
                          at=r.get("at", "?")))
    _emit(s, args.json, "\n".join(lines))
    return 0


def cmd_verify_staged(args) -> int:
    from kiosk.update import verify_staged

    v = verify_staged(_hub_sign_pub(args), _updates(args))
    _emit({"version": v.version, "sha256": v.sha256, "size": v.size}, args.json, v.version)
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("update", help=text("cli_help_update"))
    s = p.add_subparsers(dest="update_command", required=True)

    def common(q):
        q.add_argument("--db", help=text("cli_help_db"))
        q.add_argument("--key", help=text("cli_help_key"))
        q.add_argument("--updates", help=argparse.SUPPRESS)  # tests: the updates folder
        q.add_argument("--today", help=argparse.SUPPRESS)
        q.add_argument("--json", action="store_true")
        return q

    q = common(s.add_parser("stage", help=text("cli_help_update_stage")))
    q.add_argument("file")
    q.set_defaults(func=cmd_stage)
    common(s.add_parser("status", help=text("cli_help_update_status"))).set_defaults(func=cmd_status)
    common(s.add_parser("verify-staged", help=text("cli_help_update_verify_staged"))).set_defaults(
        func=cmd_verify_staged)
