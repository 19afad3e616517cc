"""`kiosk receipt LAST|RECORD_ID [--pdf FILE | --print]` and `kiosk receipt verify CODE`: the
resident's receipt (认证回执) for a face pass or a certification without a face.

Without --pdf or --print the slip is printed here as text (or JSON with --json). `verify` checks a
code (or the QR's text) of a receipt this terminal issued, with its own keys; receipts of other
terminals are checked at the county (`kiosk-county receipt verify CODE`).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.cli.common import CliError, _emit, _open_store, clock
from kiosk.texts import text


def cmd_receipt(args) -> int:
    if args.ref.lower() == "verify":
        return _verify(args)
    if args.code is not None:
        raise CliError("usage", text("cli_receipt_usage"))
    from kiosk import receipt as R
    from kiosk.config import Settings
    from kiosk.sync import cycle_rule

    settings = Settings.load()
    clk = clock(args)
    with _open_store(args, clk) as store:
        resident = None
        if args.resident:
            from kiosk.core.ids import parse_id_number

            resident = parse_id_number(args.resident, clk.today()).number  # InvalidIdNumber: one line, exit 2
        slip = R.build(store, args.ref, rule=cycle_rule(store, settings), terminal_name=settings.device_id,
                       resident_id=resident)
        if args.pdf:
            path = R.write_pdf(slip, Path(args.pdf), clk.now())
            store.audit("kiosk", "receipt_issued", {"record": slip.record_uuid, "to": "pdf"})
            _emit({"written": str(path), **slip.to_json()}, args.json, text("receipt_pdf_written", detail=str(path)))
            return 0
        if args.print:
            if settings.printer_kind == "none":
                raise R.ReceiptError("no_printer", text("receipt_error_no_printer"))
            R.print_escpos(slip, R.open_printer(settings), settings.printer_paper_mm, clk.now())
            store.audit("kiosk", "receipt_issued", {"record": slip.record_uuid, "to": "printer"})
            _emit({"printed": True, **slip.to_json()}, args.json, text("receipt_print_done"))
            return 0
    if args.json:
        _emit(slip.to_json(), True)
        return 0
    lines = [text("receipt_title")] + [text("cli_label_value", label=label, value=value) for label, value in slip.rows()]
    lines += ([text("cli_label_value", label=text("receipt_code"), value=slip.code), text("receipt_check_hint")]
              if slip.code else [text("receipt_no_code")])
    print("\n".join(lines), flush=True)
    return 0


def _verify(args) -> int:
    from kiosk import receipt as R

    if not args.code:
        raise CliError("usage", text("cli_receipt_verify_usage"))
    with _open_store(args, clock(args), require_key=False) as store:
        result = R.verify_here(store, args.code)
    _emit(result.to_json(), args.json, result.message)
    return 0


def add_commands(sub) -> None:
    r = sub.add_parser(
        "receipt", help=text("cli_help_receipt"), description=text("cli_receipt_description"))
    r.add_argument("ref", metavar=text("cli_metavar_receipt_ref"), help=text("cli_help_receipt_ref"))
    r.add_argument("code", nargs="?", help=text("cli_help_receipt_code"))
    out = r.add_mutually_exclusive_group()
    out.add_argument("--pdf", metavar=text("cli_metavar_file"), help=text("cli_help_receipt_pdf"))
    out.add_argument("--print", action="store_true", help=text("cli_help_receipt_print"))
    r.add_argument("--resident", metavar=text("cli_metavar_id"), help=text("cli_help_receipt_resident"))
    r.add_argument("--json", action="store_true")
    r.add_argument("--today", help=argparse.SUPPRESS)
    r.add_argument("--db", help=text("cli_help_db"))
    r.add_argument("--key", help=text("cli_help_key"))
    r.set_defaults(func=cmd_receipt)
