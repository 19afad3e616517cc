"""PAD speed: `python -m kiosk.pad.bench [--json] [--videos V ...]`.

1. PAD ms per scored frame: FrameScorer.score (two MiniFASNet crops + cues) on FaceMesh frames
   of the clips, letterboxed to 640x480, timed on its own.
2. The frame path median with PAD on: kiosk.bench.run (the project's benchmark, unchanged)
   with every FaceObserver it creates feeding a PadMonitor (scoring on its executor thread,
   every PAD.sample_every-th frame), so the timed section includes PadMonitor.observe and the
   PAD thread competes for the same 2 cores. kiosk.bench is reused, not copied.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np

from kiosk import bench
from kiosk.thresholds import PAD

if TYPE_CHECKING:
    from kiosk.frames import Frame
    from kiosk.observe import FrameObservation
    from kiosk.pad.decision import PadMonitor

DEFAULT_CLIPS = ("liveportrait_d9.mp4", "blinkdetector_man.mp4", "zubair_real_headturn.mp4")


def pad_ms_per_frame(videos: list[Path], per_clip: int = 40) -> list[float]:
    from kiosk.frames import Frame, VideoFileSource
    from kiosk.observe import FaceObserver
    from kiosk.pad.decision import FrameScorer

    scorer, times = FrameScorer(), []
    for v in videos:
        n = 0
        with FaceObserver() as obs:
            for f in VideoFileSource(v):
                o = obs.observe(Frame(bench.letterbox(f.rgb), f.t, f.index))
                if o.face is None or f.index % PAD.sample_every:
                    continue
                t0 = time.perf_counter()
                scorer.score(o.frame.rgb, o, f.index, f.t)
                times.append((time.perf_counter() - t0) * 1000)
                n += 1
                if n >= per_clip:
                    break
    return times


@contextmanager
def pad_on() -> Iterator[list[PadMonitor]]:
    """Every FaceObserver created inside feeds a PadMonitor (as a session would)."""
    import kiosk.observe as observe_mod
    from kiosk.pad.decision import PadMonitor

    base = observe_mod.FaceObserver
    monitors: list[PadMonitor] = []

    class WithPad(observe_mod.FaceObserver):  # = base
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self.pad = PadMonitor()
            monitors.append(self.pad)

        def observe(self, frame: Frame) -> FrameObservation:
            obs = super().observe(frame)
            self.pad.observe(frame.rgb, obs)
            return obs

        def close(self) -> None:
            super().close()
            self.pad.result()
            self.pad.close()

    observe_mod.FaceObserver = WithPad  # type: ignore[misc]  # patched for kiosk.bench.run, restored below
    try:
        yield monitors
    finally:
        observe_mod.FaceObserver = base  # type: ignore[misc]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="PAD speed at 640x480")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--videos", nargs="*", help="clips (default: three shared live clips)")
    args = ap.parse_args(argv)
    vdir = bench.data_dir() / "faces" / "videos"
    videos = [Path(v) for v in args.videos] if args.videos else [vdir / c for c in DEFAULT_CLIPS]
    videos = [v for v in videos if v.is_file()]
    if not videos:
        print(f"no clips found under {vdir} (set KIOSK_TEST_DATA)", file=sys.stderr)
        return 2
    pad = pad_ms_per_frame(videos)
    off = bench.run(videos)
    with pad_on() as monitors:
        on = bench.run(videos)
    res = {
        "pad_ms_per_scored_frame_median": round(float(np.median(pad)), 2),
        "pad_ms_per_scored_frame_p95": round(float(np.percentile(pad, 95)), 2),
        "sample_every": PAD.sample_every,
        "frame_ms_median_pad_off": off["frame_ms_median"],
        "frame_ms_median_pad_on": on["frame_ms_median"],
        "frame_ms_p95_pad_on": on["frame_ms_p95"],
        "pad_frames_skipped": sum(m.skipped for m in monitors),
        "pad_frames_scored": sum(len(m.records) for m in monitors),
        "frames": on["frames"],
        "cpu_count": os.cpu_count(),
        "target_frame_ms_median": bench.TARGETS["frame_ms_median"],
    }
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:<34}{v:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
