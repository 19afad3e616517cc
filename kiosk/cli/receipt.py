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
        raise CliError("usage", "用法：kiosk receipt LAST|记录编号 [--pdf 文件 | --print]，或 kiosk receipt verify 验证码。")
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
    lines = [text("receipt_title")] + [f"{label}：{value}" for label, value in slip.rows()]
    lines += [f"{text('receipt_code')}：{slip.code}", text("receipt_check_hint")] if slip.code else [text("receipt_no_code")]
    print("\n".join(lines), flush=True)
    return 0


def _verify(args) -> int:
    from kiosk import receipt as R

    if not args.code:
        raise CliError("usage", "请给出回执上的验证码：kiosk receipt verify XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
    with _open_store(args, clock(args), require_key=False) as store:
        result = R.verify_here(store, args.code)
    _emit(result.to_json(), args.json, result.message)
    return 0


def add_commands(sub) -> None:
    r = sub.add_parser(
        "receipt", help="认证回执：kiosk receipt LAST|记录编号 [--pdf 文件 | --print]；kiosk receipt verify 验证码",
        description="给居民出认证回执（刷脸认证成功或不刷脸认证已提交审核后）：脱敏的姓名和身份证号、时间、方式、有效期、"
                    "终端、验证码和二维码。kiosk receipt verify 验证码：核验本机出的回执；"
                    "其他终端出的回执请到县社保局核验（kiosk-county receipt verify）。")
    r.add_argument("ref", metavar="LAST|记录编号|verify", help="LAST（本机最近一次）、认证记录编号（至少前 8 位），或 verify")
    r.add_argument("code", nargs="?", help="verify 时：回执上的验证码（或二维码内容）")
    out = r.add_mutually_exclusive_group()
    out.add_argument("--pdf", metavar="文件", help="把回执存成 PDF 文件")
    out.add_argument("--print", action="store_true", help="在 kiosk.toml 设置的热敏打印机上打印")
    r.add_argument("--resident", metavar="身份证号", help="与 LAST 一起用：这位居民最近一次的回执（补打）")
    r.add_argument("--json", action="store_true")
    r.add_argument("--today", help=argparse.SUPPRESS)
    r.add_argument("--db", help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
    r.add_argument("--key", help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
    r.set_defaults(func=cmd_receipt)
