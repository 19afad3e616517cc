"""`kiosk due [--village V] [--days N] [--json | --csv FILE | --pdf FILE [--public]] [--operator NAME]`.

Who must certify (kiosk.due over kiosk.visits.visit_list): suspended, overdue (stopping next month),
never certified, due within N days; 大数据比对 and deceased left out; the cycle rule in force.
Names are masked (张*) and ID numbers masked (110105********002X) unless an operator logs in with
`--operator NAME` (PIN from stdin): the 提醒名单 then carries full names, phone, address and 联系人
where stored, and the viewing is audited. `--public` writes the 公示 version: masked, never contacts.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.cli.common import CliError, _emit, _open_store, clock, verify_operator
from kiosk.texts import text


def _rule(store):
    from kiosk.config import Settings
    from kiosk.service import cycle_rule

    return cycle_rule(store, Settings.load())


def cmd_due(args) -> int:
    from kiosk.due import due_list, write_csv, write_pdf

    if args.days < 0:
        raise CliError("usage", "--days 不能是负数。")
    if sum(bool(x) for x in (args.json, args.csv, args.pdf)) > 1:
        raise CliError("usage", "--json、--csv、--pdf 只能选一个。")
    if args.public and args.operator:
        raise CliError("usage", "公示名单不含住址电话，不需要 --operator。")
    clk = clock(args)
    with _open_store(args, clk) as store:
        actor = verify_operator(store, args.operator).name if args.operator else None
        due = due_list(store, clk, _rule(store), village=args.village, days=args.days, contacts=actor is not None)
        if actor is not None:
            store.audit(actor, "due_list_viewed", {"village": args.village, "days": args.days,
                                                   "count": len(due.entries), "output": _output(args)})
    if args.pdf:
        pages = write_pdf(due, Path(args.pdf), public=args.public)
        kind = text("due_kind_public" if args.public else "due_kind_reminder")
        _emit({"file": str(args.pdf), "residents": len(due.entries), "pages": pages, "public": args.public},
              False, text("due_written_pdf", kind=kind, path=args.pdf, n=len(due.entries), pages=pages))
        _hint(due, args)
        return 0
    if args.csv:
        n = write_csv(due, Path(args.csv), public=args.public)
        print(text("due_written_csv", path=args.csv, n=n), flush=True)
        _hint(due, args)
        return 0
    if args.json:
        _emit(due.to_json(public=args.public), True)
        return 0
    rows = due.rows(public=args.public)
    if not rows:
        print(text("due_none"), flush=True)
        return 0
    for r in rows:
        line = f"{r['n']:>3}  {r['id']}  {r['name']}  {r['village'] or ''}  {r['urgency_label']}  {r['date_label']}"
        extra = "  ".join(x for x in (r.get("address"), r.get("phone"), r.get("contact")) if x)
        print(line + (f"\n     {extra}" if extra else ""), flush=True)
    print(text("due_count", n=len(rows)), flush=True)
    _hint(due, args)
    return 0


def _output(args) -> str:
    return "pdf" if args.pdf else "csv" if args.csv else "json" if args.json else "screen"


def _hint(due, args) -> None:
    if not args.public and not due.contacts and due.entries:
        print(text("due_contacts_hidden"), flush=True)


def add_commands(sub) -> None:
    p = sub.add_parser("due", help="认证提醒名单：谁该认证、谁已逾期或暂停（可导出 CSV、打印 PDF）")
    p.add_argument("--village", help="只列这个村（默认本机全部村）")
    p.add_argument("--days", type=int, default=30, help="列出 N 天内到期的人（默认 30）")
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", metavar="FILE", help="导出 CSV（Excel 可打开）")
    p.add_argument("--pdf", metavar="FILE", help="生成 A4 PDF：提醒名单（或 --public 公示名单）")
    p.add_argument("--public", action="store_true", help="公示版：姓名和身份证号打码，不含住址电话")
    p.add_argument("--operator", help="工作人员姓名（读其密码）：列出全名、住址和电话")
    p.add_argument("--today", help="按指定日期计算（YYYY-MM-DD）")
    p.add_argument("--db", help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
    p.add_argument("--key", help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
    p.set_defaults(func=cmd_due)
