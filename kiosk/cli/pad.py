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


def cmd_pad(args) -> int:
    items = list(args.items)
    if items and items[0] == "calibrate":
        return _calibrate(args, items[1:])
    if not items:
        raise CliError("usage", "用法：kiosk pad 视频 [视频 ...] [--json]，或 kiosk pad calibrate --camera 0")
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
        verdict = "疑似翻拍/照片攻击" if res["attack"] else "未发现攻击"
        _emit(res, args.json, f"{video}：{verdict}（活体分 {res['live_score']:.3f}，评分帧 {res['frames_scored']}，"
                              f"依据 {res['cue']}）")
    return 0


def _calibrate(args, extra: list[str]) -> int:
    from kiosk.pad.flash_calibrate import main_calibrate

    if extra:
        raise CliError("usage", f"kiosk pad calibrate 不需要这些参数：{' '.join(extra)}")
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
    p = sub.add_parser("pad", help="检查视频是否为翻拍屏幕或照片（或 calibrate：在本机校准炫彩活体）")
    p.add_argument("items", nargs="*", metavar="VIDEO", help="视频文件或照片；或 calibrate")
    p.add_argument("--json", action="store_true")
    p.add_argument("--camera", type=int, help="calibrate：摄像头编号（默认 0）")
    p.add_argument("--sessions", type=int, help="calibrate：录几次（默认 3）")
    p.add_argument("--margin", type=float, help="calibrate：分数余量（默认 0.15）")
    p.add_argument("--out", help="calibrate：阈值文件（默认 KIOSK_HOME/flash.toml）")
    p.add_argument("--dry-run", action="store_true", help="calibrate：只显示，不写入")
    p.set_defaults(func=cmd_pad)
