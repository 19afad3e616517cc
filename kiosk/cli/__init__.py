"""`kiosk`: the village terminal's command line, for people and scripts (county IT, batch checks, diagnosis).

Exit 0 when a command ran, whatever the verdict; exit 2 with a one-line message
(under --json: {"error": code, "message": str}) for an unreadable file, no face,
several faces or other bad input.

Modules import only downward: this package's `__init__` (the parser and `main`) imports the
command groups (`engine`, `pad`, `residents`, `operators`, `enrolments`, `visits`, `due`, `stats`, `receipt`, `sync`, `doctor`, `selftest`, `idcard`, `update`, `app`), which import `common`. The county
hub's commands are `kiosk-county` (kiosk.county.cli), not here.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kiosk.cli import (  # noqa: E402
    app, doctor, due, engine, enrolments, idcard, operators, pad, receipt, residents, selftest, stats, sync, update, visits,
)
from kiosk.cli.common import CliError, _emit  # noqa: E402
from kiosk.texts import text  # noqa: E402

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description=text("cli_description"))
    # The touchscreen app (kiosk/app): `kiosk` full screen, `kiosk --demo` windowed demo.
    app.add_options(p)
    sub = p.add_subparsers(dest="command")
    engine.add_commands(sub)
    residents.add_commands(sub)
    operators.add_commands(sub)  # staff accounts: kiosk operator add | list | disable | pin
    enrolments.add_commands(sub)  # enrolment at the terminal: kiosk enrol, kiosk enrolments [approve|reject]
    visits.add_commands(sub)  # home visits: kiosk visits [--village V] | kiosk visits mark ID
    due.add_commands(sub)  # due lists: kiosk due [--village V] [--json | --csv F | --pdf F [--public]]
    stats.add_commands(sub)  # figures: kiosk stats [--village V] [--from D] [--to D] [--json | --csv F | --xlsx F]
    receipt.add_commands(sub)  # the resident's receipt: kiosk receipt LAST|ID [--pdf F | --print], kiosk receipt verify CODE
    pad.add_commands(sub)  # presentation attacks: kiosk pad VIDEO..., kiosk pad calibrate
    sync.add_commands(sub)  # the terminal's side of county sync: register, sync, export
    doctor.add_commands(sub)  # disk trouble: check, salvage a damaged database
    selftest.add_commands(sub)  # is everything a resident needs working: kiosk selftest [--json]
    idcard.add_commands(sub)  # the 二代证 reader (vendor SDK): kiosk idcard [--json]
    update.add_commands(sub)  # county-signed program updates: kiosk update stage FILE | status | verify-staged
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from kiosk.core.errors import KioskError
    from kiosk.matching.embedders import EmbedderError
    from kiosk.store import StoreError

    try:
        if not args.command:
            return app.cmd_app(args)
        return args.func(args)
    except (CliError, StoreError, EmbedderError, KioskError) as e:
        # One line, no traceback (a broken kiosk.toml, a bad file, a full disk): exit 2.
        _emit({"error": e.code, "message": e.message}, getattr(args, "json", False), text("cli_error", message=e.message))
        return 2
