"""`kiosk idcard`: read the 二代证 on the configured reader (vendor SDK, kiosk.toml idcard_library)
and print the masked name and number: for county IT checking a reader. The chip photo is counted,
never written anywhere."""
from __future__ import annotations

from kiosk.cli.common import _emit
from kiosk.texts import text


def cmd_idcard(args) -> int:
    from kiosk.config import Settings
    from kiosk.idcard import IdCardError, SdkReader, reader_from_settings, wait_for_card

    if args.measure:
        return _measure(args)
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


def _measure(args) -> int:
    from kiosk.cli.common import _progress
    from kiosk.idcard import measure_chip_templates

    rep = measure_chip_templates(args.measure, args.groups,
                                 progress=lambda files: _progress(files, len(files), "encode"))
    if args.json:
        _emit(rep, True)
        return 0
    groups = [g for g in rep["chip"][0] if g != "threshold"]
    print(f"{rep['used']} of {rep['photos']} photos usable; template = chip-like {rep['chip_size'][0]}x{rep['chip_size'][1]}")
    for kind in ("chip", "photo"):
        print(f"-- probe vs {'chip-like template' if kind == 'chip' else 'full-resolution photo'} (raw distance)")
        print("threshold  " + "  ".join(f"{g:>22}" for g in groups))
        for row in rep[kind]:
            cells = [f"FNMR {row[g]['fnmr'] * 100:5.1f}% FMR {row[g]['fmr'] * 100:5.2f}%" for g in groups]
            print(f"{row['threshold']:9.2f}  " + "  ".join(f"{c:>22}" for c in cells))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("idcard", help=text("cli_help_idcard"))
    p.add_argument("--library", help=text("cli_help_idcard_library"))
    p.add_argument("--port", type=int, help=text("cli_help_idcard_port"))
    p.add_argument("--wait", type=float, default=10.0, help=text("cli_help_idcard_wait"))
    p.add_argument("--measure", metavar="IMAGES", help=text("cli_help_idcard_measure"))
    p.add_argument("--groups", help=text("cli_help_idcard_groups"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_idcard)
