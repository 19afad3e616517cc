"""`kiosk idcard`: read the 二代证 on the configured reader (vendor SDK, kiosk.toml idcard_library)
and print the masked name and number: for county IT checking a reader. The chip photo is counted,
never written anywhere."""
from __future__ import annotations

from kiosk.cli.common import _emit


def cmd_idcard(args) -> int:
    from kiosk.config import Settings
    from kiosk.idcard import IdCardError, SdkReader, reader_from_settings, wait_for_card
    from kiosk.texts import text

    settings = Settings.load()
    reader = SdkReader(args.library, args.port or settings.idcard_port) if args.library else reader_from_settings(settings)
    if reader is None:
        raise IdCardError("no_library", path="idcard_library")
    try:
        card = wait_for_card(reader, timeout_s=args.wait)
    finally:
        reader.close()
    if card is None:
        raise IdCardError("no_card")
    out = card.to_json()
    _emit(out, args.json, text("idcard_read", name=out["name"], id=out["id"]))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("idcard", help="从身份证读卡器读一张二代证（显示遮掩后的姓名和号码，检查读卡器用）")
    p.add_argument("--library", help="读卡器厂家的驱动库（默认 kiosk.toml 的 idcard_library）")
    p.add_argument("--port", type=int, help="端口（默认 kiosk.toml 的 idcard_port，USB 一般是 1001）")
    p.add_argument("--wait", type=float, default=10.0, help="等身份证放上来的秒数（默认 10）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_idcard)
