"""PAD measured on the shared face data: `python -m kiosk.pad.evaluate [--data DIR] [--json]`.

Runs the real pipeline (kiosk.frames sources -> kiosk.observe FaceMesh -> PadMonitor) over
  faces/spoof/pad_videos/   (labels.csv: live / screen_replay / print_video / photo_animation_digital)
  faces/spoof/videos/       (phone screen replays, spoof/labels.csv)
  faces/videos/             (live clips)
  faces/spoof/<type>/*.jpg  (attack stills: print, paper_mask, recapture_closeup, screen_replay; live)
and prints APCER per attack species and BPCER on live clips at the shipped operating point
(kiosk/thresholds.py, PAD section), plus, per screen cue, how many clips each row would refuse if
that cue were added as an extra "or" rule.

`pad_videos(paths)` is what `kiosk pad VIDEO...` calls: one dict per video.
`--cache DIR` keeps per-frame records (every frame scored) as .npz so that re-deciding
thresholds does not re-run FaceMesh; decisions subsample them exactly as PadMonitor would.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np

from kiosk.pad.decision import FrameScore, PadMonitor, PadResult, decide, record_arrays, records_from_arrays
from kiosk.thresholds import PAD, PadThresholds

CACHE_VERSION = 3
SPECIES = {  # attack_type in the labels -> row of the table
    "screen_replay": "screen replay (video)",
    "print_video": "printed photo (video)",
    "print": "print (still)",
    "paper_mask": "paper mask (still)",
    "recapture_closeup": "recapture close-up (still)",
    "screen_replay_still": "screen replay (still)",
    "photo_animation_digital": "photo animation (digital, not filmed)",
}
LIVE_ROWS = ("live (video)", "live (still)")
# Extra "or" rules whose effect the table shows (thresholds in kiosk/thresholds.py, PAD section).
CUE_RULES: dict[str, Callable[[dict[str, Any], PadThresholds], bool]] = {
    "bezel": lambda e, th: e.get("bezel_share", 0.0) >= th.bezel_min_share,
    "glare": lambda e, th: e.get("glare_median", 0.0) >= th.glare_min,
    "planarity": lambda e, th: e.get("yaw_range", 0.0) >= th.planar_min_yaw_range and e.get("planarity", 1.0) < th.planar_max,
}


def data_dir() -> Path:
    env = os.environ.get("KIOSK_TEST_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def inventory(faces: Path) -> list[tuple[Path, str, bool]]:
    """(path, row, is_attack) for every labelled clip and still."""
    items: list[tuple[Path, str, bool]] = []
    for r in _read_csv(faces / "spoof" / "pad_videos" / "labels.csv"):
        attack = r["label"] == "attack"
        items.append((faces / "spoof" / "pad_videos" / r["file"], SPECIES[r["attack_type"]] if attack else LIVE_ROWS[0], attack))
    for r in _read_csv(faces / "spoof" / "labels.csv"):
        p = faces / r["file"]
        is_video = p.suffix.lower() == ".mp4"
        if r["label"] == "live":
            items.append((p, LIVE_ROWS[0] if is_video else LIVE_ROWS[1], False))
        else:
            kind = r["attack_type"] if is_video or r["attack_type"] != "screen_replay" else "screen_replay_still"
            items.append((p, SPECIES[kind], True))
    for p in sorted((faces / "videos").glob("*.mp4")):
        items.append((p, LIVE_ROWS[0], False))
    return items


# ------------------------------------------------------------------ the pipeline
def score_source(path: Path, th: PadThresholds = PAD) -> list[FrameScore]:
    """Per-frame PAD records of one clip or still through the real pipeline."""
    from kiosk.frames import IMAGE_SUFFIXES, ImageSource, VideoFileSource
    from kiosk.observe import FaceObserver

    still = Path(path).suffix.lower() in IMAGE_SUFFIXES
    source = ImageSource(path) if still else VideoFileSource(path)
    monitor = PadMonitor(th, synchronous=True)
    with FaceObserver(static=still) as observer:
        try:
            for frame in source:
                monitor.observe(frame.rgb, observer.observe(frame))
        finally:
            source.close()
    return monitor.records


def _cache_file(cache: Path, path: Path) -> Path:
    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{CACHE_VERSION}".encode()).hexdigest()[:12]
    return cache / f"{path.stem}-{key}.npz"


def all_frame_records(path: Path, cache: Path | None) -> list[FrameScore]:
    """Records with every frame scored, from the cache when present."""
    if cache is not None:
        f = _cache_file(cache, path)
        if f.is_file():
            with np.load(f) as a:
                return records_from_arrays(a)
    recs = score_source(path, dataclasses.replace(PAD, sample_every=1, measure_cues=True))
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(_cache_file(cache, path), **record_arrays(recs))
    return recs


def decide_clip(path: Path, th: PadThresholds = PAD, cache: Path | None = None, cues: bool = False) -> PadResult:
    """The shipped decision on one clip; cues=True also measures the (non-deciding) screen cues."""
    if cache is None:
        return decide(score_source(path, dataclasses.replace(th, measure_cues=th.measure_cues or cues)), th)
    recs = [r for r in all_frame_records(path, cache) if r.index % th.sample_every == 0]
    return decide(recs, dataclasses.replace(th, measure_cues=th.measure_cues or cues))


def pad_videos(paths: Iterable[str | Path], th: PadThresholds = PAD, cache: Path | None = None) -> list[dict[str, Any]]:
    """One dict per video (or still): video (as given), attack, live_score, frames_scored, cue, evidence."""
    out: list[dict[str, Any]] = []
    for p in paths:
        res = decide_clip(Path(p), th, cache)
        out.append({"video": str(p), **res.to_json()})
    return out


# ------------------------------------------------------------------ the table
def evaluate(faces: Path, th: PadThresholds = PAD, cache: Path | None = None) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    clips: list[dict[str, Any]] = []
    for path, row, attack in inventory(faces):
        res = decide_clip(path, th, cache, cues=True)
        clips.append({"file": str(path.relative_to(faces)), "row": row, "label_attack": attack, **res.to_json()})
        r = rows.setdefault(row, {"row": row, "attack": attack, "n": 0, "refused": 0, **{c: 0 for c in CUE_RULES}})
        r["n"] += 1
        r["refused"] += int(res.attack)
        for name, rule in CUE_RULES.items():
            r[name] += int(res.attack or rule(res.evidence, th))
    for r in rows.values():
        r["rate"] = round(r["refused"] / r["n"], 4) if r["n"] else 0.0
        r["metric"] = "APCER" if r["attack"] else "BPCER"
        if r["attack"]:  # APCER = share of attacks NOT refused
            r["rate"] = round(1 - r["refused"] / r["n"], 4)
    order = list(SPECIES.values()) + list(LIVE_ROWS)
    return {"operating_point": dataclasses.asdict(th), "rows": [rows[k] for k in order if k in rows], "clips": clips}


def print_table(res: dict[str, Any]) -> None:
    cues = list(CUE_RULES)
    print(f"{'species':<40}{'n':>4}{'refused':>9}{'rate':>16}" + "".join(f"{'+' + c:>12}" for c in cues))
    for r in res["rows"]:
        share = (r["n"] - r["refused"] if r["attack"] else r["refused"]) / r["n"]
        rate = f"{r['metric']} {share * 100:.1f}%"
        print(f"{r['row']:<40}{r['n']:>4}{r['refused']:>9}{rate:>16}" + "".join(f"{r[c]:>12}" for c in cues))
    print("(+cue: clips refused if that cue were added as an extra rule; attacks: more is better, live: fewer)")
    print("\nper clip:")
    for c in res["clips"]:
        e = c["evidence"]
        flag = "ATTACK" if c["attack"] else "live"
        wrong = "  <-- wrong" if c["attack"] != c["label_attack"] else ""
        print(f"  {c['file']:<52}{flag:>7} score {c['live_score']:.3f} frames {c['frames_scored']:>3} cue {c['cue']:<13}"
              f" bezel {e.get('bezel_share', 0):.2f} glare {e.get('glare_median', 0):.3f}"
              f" planar {e.get('planarity', 0):.3f}/{e.get('yaw_range', 0):.0f}deg{wrong}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="PAD on the shared face data: APCER per species, BPCER")
    ap.add_argument("--data", type=Path, help="folder containing faces/ (default: $KIOSK_TEST_DATA or ../shared/data)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--cache", type=Path, help="keep per-frame records here (.npz) and reuse them")
    args = ap.parse_args(argv)
    faces = (args.data or data_dir()) / "faces"
    if not faces.is_dir():
        print(f"face data not found: {faces} (set KIOSK_TEST_DATA or --data)", file=sys.stderr)
        return 2
    res = evaluate(faces, PAD, args.cache)
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
    else:
        print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
