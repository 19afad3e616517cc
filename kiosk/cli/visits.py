"""`kiosk visits [--village V] [--days N]` and `kiosk visits mark ID --outcome …`: home visits (上门认证).

Both need `--operator NAME` and that operator's PIN (one line of stdin): the list holds
addresses and phones. A certification during the visit is `kiosk certify-resident ID … --operator NAME`.
"""
from __future__ import annotations

import argparse

from kiosk.cli.common import CliError, _emit, _open_store, clock, verify_operator
from kiosk.texts import text


def _operator(store, args) -> str:
    if not args.operator:
        raise CliError("operator_required", text("cli_visits_operator_required"))
    return verify_operator(store, args.operator).name


def _rule(store):
    from kiosk.config import Settings
    from kiosk.sync import cycle_rule

    return cycle_rule(store, Settings.load())


def cmd_visits(args) -> int:
    from kiosk.visits import visit_list

    if args.days < 0:
        raise CliError("usage", text("cli_days_negative"))
    clk = clock(args)
    with _open_store(args, clk) as store:
        actor = _operator(store, args)
        entries = visit_list(store, clk, _rule(store), village=args.village, days=args.days)
        store.audit(actor, "visit_list_viewed", {"village": args.village, "days": args.days, "count": len(entries)})
    if args.json:
        _emit({"village": args.village, "days": args.days, "today": clk.today().isoformat(),
               "residents": [e.to_json() for e in entries]}, True)
        return 0
    if not entries:
        print(text("visit_none"), flush=True)
        return 0
    for e in entries:
        when = (text("visit_suspended_since", date=e.suspended_since) if e.suspended_since
                else text("visit_due_by", date=e.due_by) if e.due_by else "")
        line = [f"{e.id_masked}  {e.name}  {e.village or ''}  {text(f'visit_urgency_{e.urgency}')}  {when}"]
        extra = "  ".join(x for x in (e.address, e.phone, e.contact) if x)
        if extra:
            line.append(f"    {extra}")
        if e.last_visit:
            line.append("    " + text("visit_last", date=e.last_visit["at"], operator=e.last_visit["operator"],
                                      outcome=text(f"visit_outcome_{e.last_visit['outcome']}")))
        print("\n".join(line), flush=True)
    print(text("visit_count", n=len(entries)), flush=True)
    return 0


def cmd_visit_mark(args) -> int:
    from kiosk.core.ids import InvalidIdNumber, mask_id, mask_name, parse_id_number

    clk = clock(args)
    try:
        rid = parse_id_number(args.resident, clk.today())
    except InvalidIdNumber as e:
        raise CliError("bad_id_number", e.message) from e
    with _open_store(args, clk) as store:
        actor = _operator(store, args)
        r = store.get_resident(rid.number)
        if r is None:
            raise CliError("unknown_resident", text("visit_unknown_resident", id=mask_id(rid.number)))
        visit = store.record_visit(rid.number, actor, args.outcome, args.note)
    obj = {"visit": visit, "id": mask_id(rid.number), "name": mask_name(r.name), "outcome": args.outcome,
           "operator": actor}
    _emit(obj, args.json, text("visit_marked", name=obj["name"], id=obj["id"],
                               outcome=text(f"visit_outcome_{args.outcome}")))
    return 0


def _common(p, default) -> None:
    p.add_argument("--operator", default=default, help=text("cli_help_visits_operator"))
    p.add_argument("--today", default=default, help=text("cli_help_today"))
    p.add_argument("--db", default=default, help=text("cli_help_db"))
    p.add_argument("--key", default=default, help=text("cli_help_key"))
    p.add_argument("--json", action="store_true", default=default)


def add_commands(sub) -> None:
    from kiosk.store.db import VISIT_OUTCOMES

    v = sub.add_parser("visits", help=text("cli_help_visits"))
    v.add_argument("--village", help=text("cli_help_visits_village"))
    v.add_argument("--days", type=int, default=30, help=text("cli_help_days"))
    _common(v, None)
    v.set_defaults(func=cmd_visits)
    vs = v.add_subparsers(dest="visits_command")
    m = vs.add_parser("mark", help=text("cli_help_visits_mark"))
    m.add_argument("resident", help=text("cli_help_id_number"))
    m.add_argument("--outcome", required=True, choices=VISIT_OUTCOMES)
    m.add_argument("--note", help=text("cli_help_visits_note"))
    _common(m, argparse.SUPPRESS)  # given before `mark` too, the parent's value stays
    m.set_defaults(func=cmd_visit_mark)
