"""`python -m kiosk.pad VIDEO [VIDEO ...] [--json]`: PAD decision per video (or still photo).

Prints one line per video; with --json one JSON object per line with "video" (as given),
"attack", "live_score" (0-1), "frames_scored", "cue" (which rule decided) and "evidence".
Exit code 0 when no video is an attack, 1 when at least one is, 2 on an unreadable file.
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="kiosk pad", description="presentation-attack check of recorded clips")
    ap.add_argument("videos", nargs="+", help="video files (or still photos)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args(argv)
    from kiosk.frames import FrameSourceError
    from kiosk.pad.evaluate import pad_videos

    any_attack = False
    for v in args.videos:
        try:
            (res,) = pad_videos([v])
        except FrameSourceError as e:
            print(json.dumps({"video": v, "error": e.code}) if args.json else f"{v}: {e.code}", file=sys.stderr)
            return 2
        any_attack |= res["attack"]
        if args.json:
            print(json.dumps(res, ensure_ascii=False), flush=True)
        else:
            verdict = "ATTACK" if res["attack"] else "live"
            print(f"{v}: {verdict}  live_score {res['live_score']:.3f}  frames {res['frames_scored']}  cue {res['cue']}",
                  flush=True)
    return 1 if any_attack else 0


if __name__ == "__main__":
    sys.exit(main())
