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
        raise CliError("operator_required", "上门名单含住址和电话：请加上 --operator 工作人员姓名，并输入其密码。")
    return verify_operator(store, args.operator).name


def _rule(store):
    from kiosk.config import Settings
    from kiosk.sync import cycle_rule

    return cycle_rule(store, Settings.load())


def cmd_visits(args) -> int:
    from kiosk.visits import visit_list

    if args.days < 0:
        raise CliError("usage", "--days 不能是负数。")
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
    p.add_argument("--operator", default=default, help="工作人员姓名（从终端或标准输入读他的密码，一行）")
    p.add_argument("--today", default=default, help="按指定日期计算（YYYY-MM-DD）")
    p.add_argument("--db", default=default, help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
    p.add_argument("--key", default=default, help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
    p.add_argument("--json", action="store_true", default=default)


def add_commands(sub) -> None:
    from kiosk.store.db import VISIT_OUTCOMES

    v = sub.add_parser("visits", help="上门认证名单（需 --operator）；kiosk visits mark 记录上门结果")
    v.add_argument("--village", help="只列这个村")
    v.add_argument("--days", type=int, default=30, help="列出 N 天内到期的人（默认 30）")
    _common(v, None)
    v.set_defaults(func=cmd_visits)
    vs = v.add_subparsers(dest="visits_command")
    m = vs.add_parser("mark", help="记录一次上门：结果和备注")
    m.add_argument("resident", help="身份证号码")
    m.add_argument("--outcome", required=True, choices=VISIT_OUTCOMES)
    m.add_argument("--note", help="备注（加密保存在本机）")
    _common(m, argparse.SUPPRESS)  # given before `mark` too, the parent's value stays
    m.set_defaults(func=cmd_visit_mark)
