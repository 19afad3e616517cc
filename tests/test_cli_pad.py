"""`kiosk pad VIDEO... [--json]` and `kiosk pad calibrate`: contracts, errors, the replays refused."""
from __future__ import annotations

import pytest

from test_cli import assert_error, kiosk_home, run_cli  # noqa: F401  (kiosk_home is an autouse fixture)


def test_calibrate_without_a_camera_says_so_in_chinese_and_exits_2(capsys):
    code = None
    capsys.readouterr()
    from kiosk.cli import main

    code = main(["pad", "calibrate", "--camera", "9", "--sessions", "1", "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2
    assert "无法校准炫彩活体" in err and "摄像头" in err


def test_missing_video_is_the_standard_one_line_error(capsys, tmp_path):
    code, lines, _ = run_cli(capsys, "pad", tmp_path / "nope.mp4", "--json")
    assert_error(code, lines, "unreadable_file")
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    code, lines, _ = run_cli(capsys, "pad", bad, "--json")
    assert code == 2 and len(lines) == 1 and set(lines[0]) == {"error", "message"}


def test_no_video_is_a_usage_error(capsys):
    code, lines, _ = run_cli(capsys, "pad", "--json")
    assert_error(code, lines, "usage")


@pytest.mark.slow
def test_one_json_line_per_video_and_the_replays_are_attacks(capsys, faces_dir, videos_dir):
    replays = sorted((faces_dir / "spoof" / "videos").glob("*_replay_*.mp4"))
    live = videos_dir / "liveportrait_d9.mp4"
    argv = [str(p) for p in replays] + [str(live)]
    code, lines, _ = run_cli(capsys, "pad", *argv, "--json")
    assert code == 0 and [ln["video"] for ln in lines] == argv
    for ln in lines:
        assert {"video", "attack", "live_score", "frames_scored", "cue"} <= set(ln)
        assert 0.0 <= ln["live_score"] <= 1.0 and ln["frames_scored"] > 0
    assert [ln["attack"] for ln in lines] == [True] * len(replays) + [False]
    assert lines[-1]["cue"] == "live" and all(ln["cue"] == "minifasnet" for ln in lines[:-1])
