"""`kiosk` with no subcommand: the touchscreen kiosk app (Qt Quick, kiosk/app)."""
from __future__ import annotations


def cmd_app(args) -> int:
    """The touchscreen kiosk app (Qt Quick, kiosk/app)."""
    from kiosk.config import Settings

    Settings.load()  # a broken kiosk.toml: one line and exit 2 (kiosk.cli.main), before any window opens
    from kiosk.app.bootstrap import Options, run

    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        raise SystemExit("--size 应为 宽x高，如 1920x1080") from None
    actions = [a.strip() for a in args.actions.split(",") if a.strip()] if args.actions else None
    return run(Options(demo=args.demo or args.autopilot or bool(args.video), video=args.video,
                       autopilot=args.autopilot, screenshots=args.screenshots, elder=args.elder,
                       fullscreen=not (args.demo or args.autopilot or args.video), size=(w, h), actions=actions))



def add_options(p) -> None:
    p.add_argument("--demo", action="store_true", help="演示模式：演示数据库、虚拟摄像头，窗口运行")
    p.add_argument("--video", help="用录好的视频代替摄像头（演示）")
    p.add_argument("--actions", help="固定动作顺序，如 blink,turn_left（配合 --video）")
    p.add_argument("--autopilot", action="store_true", help="自动走完整个流程（演示）")
    p.add_argument("--screenshots", help="--autopilot 时每个画面存一张 PNG 到此文件夹")
    p.add_argument("--elder", action="store_true", help="以关怀大字版启动")
    p.add_argument("--size", default="1366x768", help="演示窗口大小，如 1920x1080、1080x1920")
