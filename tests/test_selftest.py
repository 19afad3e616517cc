"""kiosk.selftest and `kiosk selftest`: the real checks on real devices, files and stores."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.config import Settings
from kiosk.core.clock import Clock
from kiosk.selftest import RESIDENT_NEEDS, check_audio, check_camera, run_selftest
from kiosk.store import Store

T0 = "2026-12-02T10:00:00+08:00"
NO_CAMERA_INDEX = next(i for i in range(9, 16) if not Path(f"/dev/video{i}").exists())


def write_video(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        out.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    out.release()
    return path


@pytest.fixture(scope="module")
def face_video(tmp_path_factory) -> Path:
    """A clip of the virtual camera's face (the demo portrait), written as a real video file."""
    from kiosk.demo.virtual_camera import VirtualCamera

    cam = VirtualCamera(realtime=False)
    frames = []
    for f in cam:
        frames.append(f.rgb)
        if len(frames) == 12:
            break
    cam.close()
    return write_video(tmp_path_factory.mktemp("cam") / "face.avi", frames)


@pytest.fixture()
def store(tmp_path):
    s = Store.open(tmp_path / "kiosk.db", tmp_path / "keys" / "template.key", clock=Clock.fixed(T0))
    yield s
    s.close()


def test_a_missing_camera_device_is_broken_and_blocks_the_resident():
    c = check_camera(NO_CAMERA_INDEX)
    assert (c.name, c.state, c.code) == ("camera", "broken", "selftest_camera_no_camera")
    assert c.resident_needs and f"/dev/video{NO_CAMERA_INDEX}" in c.message
    c = check_camera(f"/dev/video{NO_CAMERA_INDEX}")
    assert c.state == "broken"


def test_a_video_file_as_the_camera_is_ok(face_video):
    c = check_camera(str(face_video))
    assert (c.state, c.code) == ("ok", "selftest_camera_ok")
    assert c.data["n"] == 5 and (c.data["width"], c.data["height"]) == (640, 480)


def test_a_black_camera_image_is_a_warning(tmp_path):
    clip = write_video(tmp_path / "black.avi", [np.zeros((120, 160, 3), np.uint8)] * 8)
    c = check_camera(str(clip))
    assert (c.state, c.code) == ("warn", "selftest_camera_blank")


def test_an_unreadable_video_file_is_a_broken_camera(tmp_path):
    bad = tmp_path / "cam.avi"
    bad.write_bytes(b"not a video")
    assert check_camera(str(bad)).state == "broken"


@pytest.mark.slow
def test_the_face_check_sees_the_portrait_and_not_a_wall(face_video, tmp_path):
    assert check_camera(str(face_video), face=True).code == "selftest_camera_face"
    wall = np.full((240, 320, 3), 128, np.uint8)
    wall += np.random.default_rng(1).integers(0, 40, wall.shape, dtype=np.uint8)
    clip = write_video(tmp_path / "wall.avi", [wall] * 6)
    c = check_camera(str(clip), face=True)
    assert (c.state, c.code) == ("warn", "selftest_camera_no_face")


def test_audio_needs_an_output_device_and_the_voice_files():
    assert check_audio(lambda: []).state == "warn"
    c = check_audio(lambda: ["alsa 00-00"])
    assert (c.state, c.code) == ("ok", "selftest_audio_ok")
    assert not c.resident_needs


def test_a_working_kiosk_is_not_paused_and_the_summary_is_kept(store, face_video):
    report = run_selftest(Settings(), store, store.clock, camera=str(face_video), audio_probe=lambda: ["test"])
    states = {c.name: c.state for c in report.checks}
    assert states["camera"] == states["database"] == states["template_key"] == states["clock"] == "ok"
    assert states["disk"] in ("ok", "warn") and states["roster"] == "warn"  # nobody on the roster yet
    assert states["hub"] == "warn" and states["printer"] == "skipped"
    assert not report.paused and report.blocking == ()
    from kiosk.selftest import last_summary

    kept = last_summary(store)
    assert kept == json.loads(json.dumps(report.summary()))
    assert set(kept["checks"]) == {c.name for c in report.checks} and "message" not in json.dumps(kept)


def test_no_camera_pauses_the_kiosk(store):
    report = run_selftest(Settings(), store, store.clock, camera=NO_CAMERA_INDEX, audio_probe=lambda: [])
    assert report.paused and [c.name for c in report.blocking] == ["camera"]
    assert "摄像头" in report.message
    assert report.to_json()["blocking"] == ["camera"]


def test_a_full_disk_and_a_wrong_clock_pause_it_too(store, face_video):
    settings = replace(Settings(), disk_min_free_mb=100000)
    report = run_selftest(settings, store, Clock.fixed("2020-01-01T09:00:00+08:00"), camera=str(face_video))
    blocking = {c.name for c in report.blocking}
    assert blocking <= RESIDENT_NEEDS and "clock" in blocking
    from kiosk.store.db import free_bytes

    if (free_bytes(store.path) or 0) < 100000 * 1024 * 1024:
        assert "disk" in blocking


def test_a_clock_earlier_than_the_last_record_is_broken(store, face_video):
    store.db.execute("INSERT INTO sync_state (key, value) VALUES ('last_success', ?)",
                     [json.dumps("2026-12-05T00:00:00+00:00")])
    report = run_selftest(Settings(), store, store.clock, camera=str(face_video))
    assert report.check("clock").state == "broken" and report.paused


def test_maintenance_window_is_reported(store, face_video):
    settings = replace(Settings(), maintenance_window="daily 09:00-11:00")
    report = run_selftest(settings, store, store.clock, camera=False)
    assert report.maintenance["active"] and report.maintenance["until"].startswith("2026-12-02T11:00")
    assert report.check("camera").state == "skipped"


# ------------------------------------------------------------------------ the command
def _cli(*argv: str) -> tuple[int, dict]:
    import contextlib
    import io

    from kiosk.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(list(argv))
    return rc, json.loads(out.getvalue())


def test_cli_without_a_camera_reports_it_broken_and_exits_1(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    db, key = tmp_path / "kiosk.db", tmp_path / "k" / "template.key"
    Store.open(db, key).close()
    rc, out = _cli("selftest", "--json", "--camera", str(NO_CAMERA_INDEX), "--db", str(db), "--key", str(key))
    assert rc == 1 and out["paused"] and out["blocking"] == ["camera"]
    cam = out["checks"][0]
    assert (cam["name"], cam["state"], cam["residentNeeds"]) == ("camera", "broken", True)


def test_cli_with_a_video_camera_exits_0(tmp_path, monkeypatch, face_video):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    db, key = tmp_path / "kiosk.db", tmp_path / "k" / "template.key"
    Store.open(db, key).close()
    rc, out = _cli("selftest", "--json", "--camera", str(face_video), "--db", str(db), "--key", str(key))
    assert rc == 0 and not out["paused"], out["message"]


def test_cli_reports_a_damaged_or_missing_database_without_creating_one(tmp_path, monkeypatch, face_video):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    db, key = tmp_path / "kiosk.db", tmp_path / "k" / "template.key"
    rc, out = _cli("selftest", "--json", "--camera", str(face_video), "--db", str(db), "--key", str(key))
    assert rc == 1 and out["blocking"] == ["database"] and not db.exists() and not key.exists()
    with Store.open(db, key) as s:
        for i in range(300):
            s.audit("test", "filler", {"n": i, "text": "x" * 200})
    good = db.read_bytes()
    db.write_bytes(good[: len(good) // 2])  # a file cut short (power cut during a copy)
    rc, out = _cli("selftest", "--json", "--camera", str(face_video), "--db", str(db), "--key", str(key))
    assert rc == 1 and "database" in out["blocking"]


def test_each_check_is_handed_over_as_soon_as_it_is_done(store):
    """run_selftest(on_check=…): the app's 自检 screen shows the checks as they come, in CHECKS order; a
    listener that fails does not stop the self-test."""
    from kiosk.selftest import CHECKS

    seen: list[str] = []

    def on_check(c):
        seen.append(c.name)
        if c.name == "audio":
            raise RuntimeError("a listener's bug")

    report = run_selftest(Settings(), store, store.clock, camera=False, audio_probe=lambda: [], on_check=on_check)
    assert seen == [c.name for c in report.checks] and seen == [n for n in CHECKS if n in seen]
    assert seen[:4] == ["camera", "audio", "disk", "database"]
