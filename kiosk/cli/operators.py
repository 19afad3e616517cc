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
            by = operators.verify_pin(store, args.by, read_pin(text("cli_admin_pin_prompt", name=args.by)))
        elif operators.count(store):
            raise operators.OperatorError("admin_required")
        elif args.role != "admin":
            raise operators.OperatorError("first_must_be_admin")
        pin = read_new_pin(text("cli_new_pin_prompt", name=args.name, n=operators.MIN_PIN_DIGITS), text("cli_pin_again"))
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
        by = operators.verify_pin(store, args.by, read_pin(text("cli_admin_pin_prompt", name=args.by)))
        op = operators.disable(store, args.name, by=by)
        out = op.to_json(store.clock.utc_now())
    _emit(out, args.json, text("operator_cli_disabled", name=op.name))
    return 0


def cmd_pin(args) -> int:
    from kiosk import operators

    with _open_store(args) as store:
        old = read_pin(text("cli_old_pin_prompt", name=args.name))
        # The old PIN is checked first (a wrong one counts towards the lockout) before asking the new one.
        operators.verify_pin(store, args.name, old)
        new = read_new_pin(text("cli_new_pin"), text("cli_pin_again"))
        op = operators.set_pin(store, args.name, old, new)
    _emit({"name": op.name, "pin_changed": True}, args.json, text("operator_cli_pin_changed", name=op.name))
    return 0


def add_commands(sub) -> None:
    from kiosk.operators import ROLES

    o = sub.add_parser("operator", help=text("cli_help_operator_group"))
    osub = o.add_subparsers(dest="operator_command", required=True)

    def common(p) -> None:
        p.add_argument("--db", help=text("cli_help_db"))
        p.add_argument("--key", help=text("cli_help_key"))
        p.add_argument("--json", action="store_true")

    a = osub.add_parser("add", help=text("cli_help_operator_add"))
    a.add_argument("name", help=text("cli_help_operator_name"))
    a.add_argument("--role", required=True, choices=ROLES, help=text("cli_help_operator_role"))
    a.add_argument("--by", help=text("cli_help_operator_add_by"))
    common(a)
    a.set_defaults(func=cmd_add)

    ls = osub.add_parser("list", help=text("cli_help_operator_list"))
    common(ls)
    ls.set_defaults(func=cmd_list)

    d = osub.add_parser("disable", help=text("cli_help_operator_disable"))
    d.add_argument("name")
    d.add_argument("--by", required=True, help=text("cli_help_operator_disable_by"))
    common(d)
    d.set_defaults(func=cmd_disable)

    p = osub.add_parser("pin", help=text("cli_help_operator_pin"))
    p.add_argument("name")
    common(p)
    p.set_defaults(func=cmd_pin)
