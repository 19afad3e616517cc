"""Passive presentation-attack detection (kiosk.pad).

Without data: the crop geometry of the MiniFASNet convention, the models' input convention,
the decision rule on synthetic score sequences, and PadMonitor's sampling off the caller's
thread. With data (KIOSK_TEST_DATA): the phone replays and printed-photo videos are refused,
live clips pass, through the real pipeline (frames -> FaceMesh -> PadMonitor).
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from kiosk.pad.decision import FrameScore, PadMonitor, decide, gate
from kiosk.pad.minifasnet import MiniFasNet, crop, crop_box, detector_box, model_paths
from kiosk.thresholds import PAD

pytestmark = pytest.mark.data


# ------------------------------------------------------------------ crop geometry (no data)
def test_crop_box_is_centred_and_scaled():
    # 640x480 frame, 60x80 face box at (300, 200): 2.7x -> 162x216 around (330, 240).
    assert crop_box(640, 480, (300, 200, 60, 80), 2.7) == (249, 132, 411, 348)


def test_crop_box_shifts_back_inside_the_frame():
    l, t, r, b = crop_box(640, 480, (0, 0, 60, 80), 4.0)  # 240x320, centred at (30, 40)
    assert (l, t) == (0, 0) and (r, b) == (240, 320)
    l, t, r, b = crop_box(640, 480, (600, 420, 40, 60), 2.7)  # crosses the right and bottom edges
    assert r == 639 and b == 479 and r - l == 108 and b - t == 162


def test_crop_box_scale_is_capped_by_the_frame():
    # A face 200 px tall in a 480 px frame cannot be cropped at 4x: scale = (H-1)/h = 2.395.
    l, t, r, b = crop_box(640, 480, (220, 140, 160, 200), 4.0)
    assert (t, b) == (0, 479)
    assert r - l == int(round(160 * 479 / 200)) or r - l == int(160 * 479 / 200)


def test_detector_box_spans_forehead_to_below_the_chin():
    lm = np.zeros((478, 3), np.float32)
    lm[:, 0] = np.linspace(100, 200, 478)
    lm[:, 1] = np.linspace(50, 170, 478)
    lm[10, 1], lm[152, 1] = 50, 170
    x, y, w, h = detector_box(lm)
    assert (x, y, w) == (100, 50, 100)
    assert h == pytest.approx(120 * 1.05)


def test_models_are_shipped_with_their_licence_and_take_bgr_0_255():
    for p in model_paths():
        assert p.is_file()
    assert (model_paths()[0].parent / "LICENSE-Apache-2.0.txt").is_file()
    net = MiniFasNet()
    img = np.random.default_rng(0).integers(0, 255, (480, 640, 3), np.uint8)
    box = (280, 180, 80, 100)
    p_bgr = net.probabilities(img, box)
    p_rgb = net.probabilities(img[..., ::-1].copy(), box, rgb=True)
    assert p_bgr.sum() == pytest.approx(1.0) and np.allclose(p_bgr, p_rgb, atol=1e-6)
    assert crop(img, box, 2.7).shape == (80, 80, 3)


# ------------------------------------------------------------------ decision rule (synthetic)
def frames(lives, **kw) -> list[FrameScore]:
    base = dict(source="mesh", face_px=150.0, yaw=0.0, pitch=0.0, eyes=0.3, sharpness=100.0)
    return [FrameScore(index=i, t=i / 25, live=float(v), **{**base, **kw}) for i, v in enumerate(lives)]


def test_a_few_bad_frames_do_not_refuse_a_live_face():
    rng = np.random.default_rng(1)
    lives = rng.uniform(0.85, 1.0, 40)
    lives[rng.choice(40, 12, replace=False)] = 0.0  # 30% of frames confidently "attack"
    res = decide(frames(lives))
    assert not res.attack and res.cue == "live" and res.frames_scored == 40


def test_a_few_good_frames_do_not_pass_an_attack():
    rng = np.random.default_rng(2)
    lives = rng.uniform(0.0, 0.3, 40)
    lives[rng.choice(40, 12, replace=False)] = 0.99
    res = decide(frames(lives))
    assert res.attack and res.cue == "minifasnet" and res.live_score < PAD.live_min


def test_turned_closed_eye_and_blurred_frames_do_not_vote():
    good = frames([0.95] * 20)
    turned = frames([0.0] * 15, yaw=45.0)
    closed = frames([0.0] * 15, eyes=0.05)
    blurred = frames([0.0] * 15, sharpness=5.0)
    mixed = good + turned + closed + blurred
    for i, f in enumerate(mixed):
        f.index = i
    assert len(gate(mixed)) == 20
    res = decide(mixed)
    assert not res.attack and res.evidence["gated"] == 20 and res.frames_scored == 65


def test_too_few_gated_frames_fall_back_to_all_frames():
    res = decide(frames([0.1, 0.1, 0.2, 0.1], yaw=50.0))
    assert res.attack and res.evidence["voters"] == "all"


def test_detector_frames_vote_without_landmarks():
    det = [FrameScore(index=i, t=i / 25, source="detector", live=0.01, face_px=70.0) for i in range(10)]
    assert decide(det).attack
    tiny = [dataclasses.replace(f, face_px=20.0) for f in det]
    assert gate(tiny) == []


def test_no_face_is_not_an_attack_by_pad():
    res = decide([])
    assert not res.attack and res.cue == "no_face" and res.frames_scored == 0


def test_threshold_edges():
    assert not decide(frames([PAD.live_min + 0.01] * 9)).attack
    assert decide(frames([PAD.live_min - 0.01] * 9)).attack


# ------------------------------------------------------------------ the monitor (no data)
def _synthetic_observation(index: int):
    from kiosk.frames import Frame
    from kiosk.observe import FaceObservation, FrameObservation, Quality

    rgb = np.full((480, 640, 3), 128, np.uint8)
    lm = np.zeros((478, 3), np.float32)
    lm[:, 0] = np.linspace(270, 370, 478)
    lm[:, 1] = np.linspace(180, 300, 478)
    q = Quality(128.0, 20.0, 100.0, 0.16, 100.0, 0.0, 1)
    face = FaceObservation(index / 25, index, lm, (270, 180, 370, 300), 0.0, 0.0, 0.0, (0.3, 0.3), 0.0, q)
    return rgb, FrameObservation(Frame(rgb, index / 25, index), face, 1)


def test_monitor_samples_every_nth_frame_off_the_callers_thread():
    th = dataclasses.replace(PAD, sample_every=3, max_pending=1000)
    inputs = [_synthetic_observation(i) for i in range(30)]
    times = []
    with PadMonitor(th) as monitor:
        for rgb, obs in inputs:
            t0 = time.perf_counter()
            monitor.observe(rgb, obs)
            times.append((time.perf_counter() - t0) * 1000)
        res = monitor.result(timeout=30)
    submit_ms = float(np.median(times))
    assert res.frames_scored == 10 and [r.index for r in monitor.records] == list(range(0, 30, 3))
    assert 0.0 <= res.live_score <= 1.0 and isinstance(res.attack, bool)
    assert submit_ms < 5.0, submit_ms  # observe() only queues the frame


def test_monitor_skips_rather_than_queues_when_scoring_falls_behind():
    th = dataclasses.replace(PAD, sample_every=1, max_pending=1)
    with PadMonitor(th) as monitor:
        for i in range(20):
            monitor.observe(*_synthetic_observation(i))
        res = monitor.result(timeout=30)
    assert res.frames_scored + monitor.skipped == 20 and res.frames_scored >= 1


# ------------------------------------------------------------------ real clips (data)
ATTACK_VIDEOS = [
    "spoof/videos/zubair_replay_phone.mp4",
    "spoof/videos/manikantha_replay_phone.mp4",
    "spoof/pad_videos/zalo_s1_screen_replay.mp4",
] + [f"spoof/pad_videos/nuaa_s000{i}_print.mp4" for i in range(1, 8)]
# Live clips: the lowest-scoring ones that the target allows to pass, and a few ordinary ones.
# (nuaa_s0005_live is the one live clip the shipped operating point refuses; docs/pad.md.)
LIVE_VIDEOS = [
    "videos/zubair_real_headturn.mp4",
    "videos/intel_headpose_female_and_male.mp4",
    "videos/liveportrait_d18.mp4",
    "videos/mead_W036_happy_007.mp4",
    "spoof/pad_videos/zalo_s2_live.mp4",
    "spoof/pad_videos/nuaa_s0001_live.mp4",
]


@pytest.fixture(scope="module")
def pad_results(faces_dir):
    from kiosk.pad.evaluate import pad_videos

    paths = [faces_dir / v for v in ATTACK_VIDEOS + LIVE_VIDEOS]
    return {str(p.relative_to(faces_dir)): r for p, r in zip(paths, pad_videos(paths))}


@pytest.mark.slow
@pytest.mark.parametrize("video", ATTACK_VIDEOS)
def test_replays_and_print_videos_are_refused(pad_results, video):
    r = pad_results[video]
    assert r["attack"] and r["cue"] == "minifasnet" and r["frames_scored"] > 0, r


@pytest.mark.slow
@pytest.mark.parametrize("video", LIVE_VIDEOS)
def test_live_clips_pass(pad_results, video):
    r = pad_results[video]
    assert not r["attack"] and r["live_score"] >= PAD.live_min and r["frames_scored"] > 0, r


@pytest.mark.slow
def test_pad_videos_output_format(pad_results):
    for video, r in pad_results.items():
        assert r["video"].endswith(video)
        assert set(r) >= {"video", "attack", "live_score", "frames_scored", "cue"}
        assert 0.0 <= r["live_score"] <= 1.0


def test_module_entry_point_json(faces_dir, capsys):
    import json

    from kiosk.pad.__main__ import main

    still = faces_dir / "spoof" / "screen_replay" / "silentface_image_F2.jpg"
    assert main([str(still), "--json"]) == 1
    line = json.loads(capsys.readouterr().out.strip())
    assert line["video"] == str(still) and line["attack"] is True and line["frames_scored"] == 1
