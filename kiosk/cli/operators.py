"""`kiosk operator add | list | disable | pin`: staff accounts on this terminal (kiosk.operators).

PINs are read from the terminal (getpass, twice for a new one) or from stdin when it is not a
terminal (one line each; a new PIN as one line or the same line twice) — never from argv, so
they stay out of the shell history and the process list. Order on stdin: the acting admin's PIN
(--by) first, then the new PIN; for `pin`: the old PIN, then the new one.
"""
from __future__ import annotations

from kiosk.cli.common import _emit, _open_store, read_new_pin, read_pin
from kiosk.texts import text


def cmd_add(args) -> int:
    from kiosk import operators

    with _open_store(args) as store:
        by = None
        if args.by:
            by = operators.verify_pin(store, args.by, read_pin(f"管理员 {args.by} 的密码："))
        elif operators.count(store):
            raise operators.OperatorError("admin_required")
        elif args.role != "admin":
            raise operators.OperatorError("first_must_be_admin")
        pin = read_new_pin(f"{args.name} 的新密码（至少 {operators.MIN_PIN_DIGITS} 位数字）：", "再输入一次：")
        op = operators.add_operator(store, args.name, args.role, pin, by=by)
        out = op.to_json(store.clock.utc_now())
    _emit(out, args.json, text("operator_cli_added", name=op.name, role=text(f"operator_role_{op.role}")))
    return 0


def cmd_list(args) -> int:
    from kiosk import operators

    with _open_store(args) as store:
        now = store.clock.utc_now()
        ops = [o.to_json(now) for o in operators.list_operators(store)]
    if args.json:
        _emit({"operators": ops}, True)
    elif not ops:
        print(text("operator_cli_none"), flush=True)
    for o in [] if args.json else ops:
        state = "inactive" if not o["active"] else "locked" if o["locked"] else "active"
        print(f"{o['name']}  {text('operator_role_' + o['role'])}  {text('operator_state_' + state)}", flush=True)
    return 0


def cmd_disable(args) -> int:
    from kiosk import operators

    with _open_store(args) as store:
        by = operators.verify_pin(store, args.by, read_pin(f"管理员 {args.by} 的密码："))
        op = operators.disable(store, args.name, by=by)
        out = op.to_json(store.clock.utc_now())
    _emit(out, args.json, text("operator_cli_disabled", name=op.name))
    return 0


def cmd_pin(args) -> int:
    from kiosk import operators

    with _open_store(args) as store:
        old = read_pin(f"{args.name} 的原密码：")
        # The old PIN is checked first (a wrong one counts towards the lockout) before asking the new one.
        operators.verify_pin(store, args.name, old)
        new = read_new_pin("新密码：", "再输入一次：")
        op = operators.set_pin(store, args.name, old, new)
    _emit({"name": op.name, "pin_changed": True}, args.json, text("operator_cli_pin_changed", name=op.name))
    return 0


def add_commands(sub) -> None:
    from kiosk.operators import ROLES

    o = sub.add_parser("operator", help="工作人员账号：添加、列出、停用、改密码（密码不写在命令行上）")
    osub = o.add_subparsers(dest="operator_command", required=True)

    def common(p) -> None:
        p.add_argument("--db", help="数据库文件（默认 $KIOSK_HOME/kiosk.db）")
        p.add_argument("--key", help="模板密钥文件（默认 $KIOSK_KEY_FILE）")
        p.add_argument("--json", action="store_true")

    a = osub.add_parser("add", help="添加工作人员（本机第一个账号须为管理员，此后须由管理员 --by 确认）")
    a.add_argument("name", help="姓名")
    a.add_argument("--role", required=True, choices=ROLES, help="assistant 协理员、reviewer 审核员、admin 管理员")
    a.add_argument("--by", help="确认添加的管理员（先从终端或标准输入读他的密码）")
    common(a)
    a.set_defaults(func=cmd_add)

    ls = osub.add_parser("list", help="列出工作人员（姓名、角色、是否在用、是否锁定）")
    common(ls)
    ls.set_defaults(func=cmd_list)

    d = osub.add_parser("disable", help="停用工作人员账号（须由管理员 --by 确认）")
    d.add_argument("name")
    d.add_argument("--by", required=True, help="确认停用的管理员")
    common(d)
    d.set_defaults(func=cmd_disable)

    p = osub.add_parser("pin", help="修改自己的密码（先输原密码，再输新密码）")
    p.add_argument("name")
    common(p)
    p.set_defaults(func=cmd_pin)
