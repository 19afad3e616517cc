"""`kiosk pad VIDEO [VIDEO ...] [--json]` and `kiosk pad calibrate --camera N`: presentation attacks.

`kiosk pad` scores recorded clips (or stills) with the same PAD the session applies
(kiosk.pad.evaluate.pad_videos, the settings' operating point): one JSON line per video with
"video" (as given), "attack", "live_score" (0-1), "frames_scored", "cue" and "evidence".
Exit 0 when every video was read, whatever the verdicts; a missing or unreadable video is the
standard one-line error, exit 2.

`kiosk pad calibrate --camera N [--sessions K] [--margin M] [--out PATH] [--dry-run]` records a
few live sessions of the operator under the colour flash and writes KIOSK_HOME/flash.toml
(kiosk.pad.flash_calibrate); no camera: a Chinese message and exit 2.
"""
from __future__ import annotations

from kiosk.cli.common import CliError, _emit, _progress
from kiosk.texts import text


def cmd_pad(args) -> int:
    items = list(args.items)
    if items and items[0] == "calibrate":
        return _calibrate(args, items[1:])
    if not items:
        raise CliError("usage", text("cli_pad_usage"))
    from kiosk.config import Settings
    from kiosk.frames import FrameSourceError
    from kiosk.pad.evaluate import pad_videos
    from kiosk.pad.options import pad_thresholds

    th = pad_thresholds(Settings.load())
    for video in _progress(items, len(items), "pad"):
        try:
            (res,) = pad_videos([video], th)
        except FrameSourceError as e:
            raise CliError(e.code, e.message) from e
        res["video"] = video
        verdict = text("cli_pad_attack" if res["attack"] else "cli_pad_no_attack")
        _emit(res, args.json, text("cli_pad_line", video=video, verdict=verdict, score=res["live_score"],
                                   frames=res["frames_scored"], cue=res["cue"]))
    return 0


def _calibrate(args, extra: list[str]) -> int:
    from kiosk.pad.flash_calibrate import main_calibrate

    if extra:
        raise CliError("usage", text("cli_pad_calibrate_extra", args=" ".join(extra)))
    argv = ["--camera", str(args.camera if args.camera is not None else 0)]
    if args.sessions is not None:
        argv += ["--sessions", str(args.sessions)]
    if args.margin is not None:
        argv += ["--margin", str(args.margin)]
    if args.out:
        argv += ["--out", args.out]
    if args.dry_run:
        argv.append("--dry-run")
    return main_calibrate(argv)


def add_commands(sub) -> None:
    p = sub.add_parser("pad", help=text("cli_help_pad"))
    p.add_argument("items", nargs="*", metavar="VIDEO", help=text("cli_help_pad_items"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--camera", type=int, help=text("cli_help_pad_camera"))
    p.add_argument("--sessions", type=int, help=text("cli_help_pad_sessions"))
    p.add_argument("--margin", type=float, help=text("cli_help_pad_margin"))
    p.add_argument("--out", help=text("cli_help_pad_out"))
    p.add_argument("--dry-run", action="store_true", help=text("cli_help_pad_dry_run"))
    p.set_defaults(func=cmd_pad)
