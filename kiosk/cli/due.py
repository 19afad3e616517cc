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
        raise CliError("usage", text("cli_days_negative"))
    if sum(bool(x) for x in (args.json, args.csv, args.pdf)) > 1:
        raise CliError("usage", text("cli_due_one_format"))
    if args.public and args.operator:
        raise CliError("usage", text("cli_due_public_no_operator"))
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
    p = sub.add_parser("due", help=text("cli_help_due"))
    p.add_argument("--village", help=text("cli_help_due_village"))
    p.add_argument("--days", type=int, default=30, help=text("cli_help_days"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", metavar="FILE", help=text("cli_help_csv"))
    p.add_argument("--pdf", metavar="FILE", help=text("cli_help_due_pdf"))
    p.add_argument("--public", action="store_true", help=text("cli_help_due_public"))
    p.add_argument("--operator", help=text("cli_help_due_operator"))
    p.add_argument("--today", help=text("cli_help_today"))
    p.add_argument("--db", help=text("cli_help_db"))
    p.add_argument("--key", help=text("cli_help_key"))
    p.set_defaults(func=cmd_due)
