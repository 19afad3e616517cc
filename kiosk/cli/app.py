"""`kiosk` with no subcommand: the touchscreen kiosk app (Qt Quick, kiosk/app)."""
from __future__ import annotations

from kiosk.texts import text


def cmd_app(args) -> int:
    """The touchscreen kiosk app (Qt Quick, kiosk/app)."""
    from kiosk.config import Settings

    Settings.load()  # a broken kiosk.toml: one line and exit 2 (kiosk.cli.main), before any window opens
    from kiosk.app.bootstrap import Options, run

    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        raise SystemExit(text("cli_bad_size")) from None
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    return run(Options(demo=args.demo or args.autopilot or bool(args.video), video=args.video,
                       autopilot=args.autopilot, screenshots=args.screenshots, elder=args.elder,
                       fullscreen=not (args.demo or args.autopilot or args.video), size=(w, h), actions=actions))



def add_options(p) -> None:
    p.add_argument("--demo", action="store_true", help=text("cli_help_app_demo"))
    p.add_argument("--video", help=text("cli_help_app_video"))
    p.add_argument("--actions", help=text("cli_help_app_actions"))
    p.add_argument("--autopilot", action="store_true", help=text("cli_help_app_autopilot"))
    p.add_argument("--screenshots", help=text("cli_help_app_screenshots"))
    p.add_argument("--elder", action="store_true", help=text("cli_help_app_elder"))
    p.add_argument("--size", default="1366x768", help=text("cli_help_app_size"))
