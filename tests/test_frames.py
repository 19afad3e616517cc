"""Frame sources: video files, image folders, single images, cameras (present, absent, lost)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk import frames
from kiosk.frames import (
    CameraLost,
    CameraSource,
    FrameSourceError,
    ImageFolderSource,
    ImageSource,
    VideoFileSource,
    open_source,
    read_image,
)


# ------------------------------------------------------------------ video files
def test_video_file_source_yields_rgb_frames_with_timestamps(videos_dir, labels):
    path = videos_dir / "intel_headpose_female.mp4"
    src = VideoFileSource(path)
    got = list(src)
    row = labels["intel_headpose_female.mp4"]
    w, h, fps = int(row["width"]), int(row["height"]), float(row["fps"])
    assert src.fps == pytest.approx(fps, rel=0.02)
    assert len(got) == pytest.approx(float(row["duration_s"]) * fps, abs=2)
    assert src.frame_count in (None, len(got))
    assert [f.index for f in got] == list(range(len(got)))
    assert got[0].t == 0.0
    assert np.allclose(np.diff([f.t for f in got]), 1.0 / src.fps)
    for f in got[:3]:
        assert f.rgb.dtype == np.uint8 and f.rgb.shape == (h, w, 3)
        assert f.size == (w, h)
    # Frames are RGB: the same pixel read by OpenCV (BGR) comes back channel-swapped.
    cap = cv2.VideoCapture(str(path))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    assert np.array_equal(got[0].rgb, bgr[:, :, ::-1])


def test_video_file_source_max_side_downscales(videos_dir):
    src = VideoFileSource(videos_dir / "liveportrait_d9.mp4", max_side=256)
    first = next(iter(src))
    src.close()
    assert max(first.rgb.shape[:2]) <= 256
    assert first.rgb.shape[2] == 3


def test_open_source_dispatches_on_the_spec(videos_dir, images_dir, tmp_path):
    assert isinstance(open_source(str(videos_dir / "intel_headpose_male.mp4")), VideoFileSource)
    img = open_source(images_dir / "Jackie_Chan" / "1.jpg", still_frames=4, fps=10.0)
    assert isinstance(img, ImageSource)
    assert [round(f.t, 3) for f in img] == [0.0, 0.1, 0.2, 0.3]
    assert isinstance(open_source(images_dir / "Jackie_Chan"), ImageFolderSource)


# ------------------------------------------------------------------ image folder / single image
def test_image_folder_source_reads_frames_in_name_order(videos_dir, tmp_path):
    import spoofs

    wanted = spoofs.read_frames(videos_dir / "liveportrait_d0.mp4", [0, 10, 20])
    folder = tmp_path / "seq"
    folder.mkdir()
    # Written out of order, and with a non-image file that must be ignored.
    spoofs.write_png(folder / "frame_002.png", wanted[20])
    spoofs.write_png(folder / "frame_000.png", wanted[0])
    spoofs.write_png(folder / "frame_001.png", wanted[10])
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    src = ImageFolderSource(folder, fps=5.0)
    got = list(src)
    assert [f.index for f in got] == [0, 1, 2]
    assert [f.t for f in got] == pytest.approx([0.0, 0.2, 0.4])
    for f, i in zip(got, (0, 10, 20)):
        assert np.array_equal(f.rgb, wanted[i])  # PNG is lossless


def test_image_folder_errors(tmp_path):
    with pytest.raises(FrameSourceError) as e:
        ImageFolderSource(tmp_path / "missing")
    assert e.value.code == "unreadable_file"
    (tmp_path / "empty").mkdir()
    with pytest.raises(FrameSourceError) as e:
        ImageFolderSource(tmp_path / "empty")
    assert e.value.code == "unreadable_file"


def test_single_image_repeated(images_dir):
    path = images_dir / "Jackie_Chan" / "1.jpg"
    src = ImageSource(path, repeat=6, fps=25.0)
    got = list(src)
    assert len(got) == 6
    assert [f.index for f in got] == list(range(6))
    assert got[-1].t == pytest.approx(5 / 25.0)
    assert all(np.array_equal(f.rgb, got[0].rgb) for f in got)
    assert np.array_equal(got[0].rgb, read_image(path))


def test_read_image_formats(tmp_path):
    """Grey, RGBA and 16-bit images come back as 8-bit RGB; non-ASCII (Chinese) paths work."""
    grey = np.full((40, 30), 90, np.uint8)
    rgba = np.zeros((40, 30, 4), np.uint8)
    rgba[..., 0] = 255  # blue in BGRA
    deep = np.full((20, 20, 3), 4000, np.uint16)
    ok1, buf1 = cv2.imencode(".png", grey)
    ok2, buf2 = cv2.imencode(".png", rgba)
    ok3, buf3 = cv2.imencode(".png", deep)
    assert ok1 and ok2 and ok3
    p1, p2, p3 = tmp_path / "灰度照片.png", tmp_path / "alpha.png", tmp_path / "deep.png"
    buf1.tofile(str(p1))
    buf2.tofile(str(p2))
    buf3.tofile(str(p3))
    g = read_image(p1)
    assert g.shape == (40, 30, 3) and g.dtype == np.uint8 and (g == 90).all()
    a = read_image(p2)
    assert a.shape == (40, 30, 3) and (a[..., 2] == 255).all() and (a[..., 0] == 0).all()  # blue -> RGB
    d = read_image(p3)
    assert d.dtype == np.uint8 and d.shape == (20, 20, 3) and d.max() > 0


@pytest.mark.parametrize("content", [None, b"", b"this is not a picture at all"])
def test_unreadable_image_raises_unreadable_file(tmp_path, content):
    p = tmp_path / "photo.jpg"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(FrameSourceError) as e:
        read_image(p)
    assert e.value.code == "unreadable_file"
    assert e.value.message  # plain Chinese for the user
    with pytest.raises(FrameSourceError) as e:
        ImageSource(p)
    assert e.value.code == "unreadable_file"


@pytest.mark.parametrize("content", [None, b"", b"\x00\x00\x00\x18ftypmp42 but then garbage" * 10])
def test_unreadable_video_raises_unreadable_file(tmp_path, content):
    p = tmp_path / "clip.mp4"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(FrameSourceError) as e:
        VideoFileSource(p)
    assert e.value.code == "unreadable_file"
    with pytest.raises(FrameSourceError) as e:
        open_source(str(p))
    assert e.value.code == "unreadable_file"


# ------------------------------------------------------------------ cameras
def test_missing_camera_raises_no_camera():
    with pytest.raises(FrameSourceError) as e:
        CameraSource(97)
    assert e.value.code == "no_camera"
    assert "摄像头" in e.value.message
    with pytest.raises(FrameSourceError) as e:
        open_source("97")
    assert e.value.code == "no_camera"


class FakeCapture:
    """Stands in for cv2.VideoCapture: delivers `frames` (BGR) then fails forever
    (a USB camera pulled out), or keeps delivering when `fail_after` is None."""

    def __init__(self, frames_bgr: list[np.ndarray], fail_after: int | None):
        self.frames = frames_bgr
        self.fail_after = fail_after
        self.reads = 0
        self.released = False

    def isOpened(self):
        return not self.released

    def set(self, *args):
        return True

    def read(self):
        self.reads += 1
        if self.released or (self.fail_after is not None and self.reads > self.fail_after):
            return False, None
        return True, self.frames[(self.reads - 1) % len(self.frames)].copy()

    def release(self):
        self.released = True


def fake_camera(monkeypatch, frames_bgr, fail_after, lost_after_s=0.2) -> tuple[CameraSource, FakeCapture]:
    cap = FakeCapture(frames_bgr, fail_after)
    monkeypatch.setattr(frames.cv2, "VideoCapture", lambda index: cap)
    return CameraSource(0, lost_after_s=lost_after_s), cap


@pytest.mark.timeout(20)
def test_camera_that_stops_delivering_raises_camera_lost(monkeypatch):
    bgr = np.zeros((48, 64, 3), np.uint8)
    bgr[..., 0] = 200  # blue
    src, cap = fake_camera(monkeypatch, [bgr], fail_after=7)
    got = []
    with pytest.raises(CameraLost) as e:
        for f in src:
            got.append(f)
    assert len(got) == 7
    assert [f.index for f in got] == list(range(7))
    assert all(b.t >= a.t for a, b in zip(got, got[1:]))
    assert (got[0].rgb[..., 2] == 200).all() and (got[0].rgb[..., 0] == 0).all()  # BGR -> RGB
    assert e.value.code == "camera_lost" and isinstance(e.value, FrameSourceError)
    assert "摄像头" in e.value.message
    assert cap.released


@pytest.mark.timeout(20)
def test_camera_close_ends_iteration(monkeypatch):
    src, cap = fake_camera(monkeypatch, [np.zeros((8, 8, 3), np.uint8)], fail_after=None)
    n = 0
    for _ in src:
        n += 1
        if n == 3:
            src.close()
    assert n == 3 and cap.released


@pytest.mark.timeout(60)
def test_run_session_ends_with_camera_lost(monkeypatch):
    """The camera dies in the middle of a session: the verdict is fail / camera_lost (no hang)."""
    from kiosk.texts import verdict_message
    from kiosk.observe import FaceObserver
    from kiosk.session import CertificationSession, run_session

    grey = np.full((240, 320, 3), 128, np.uint8)
    src, cap = fake_camera(monkeypatch, [grey], fail_after=5)

    class NoEncoder:
        def encode(self, rgb, face):  # never reached: no face, no matching
            raise AssertionError("encode must not be called")

    session = CertificationSession([np.zeros(128)], NoEncoder(), actions=["blink", "turn_left"])
    with FaceObserver() as observer:
        verdict = run_session(session, src, observer)
    assert verdict.verdict == "fail"
    assert verdict.reason == "camera_lost"
    assert verdict.message == verdict_message("camera_lost")
    assert cap.released


@pytest.mark.timeout(120)
def test_camera_lost_mid_challenge(monkeypatch, videos_dir, photo_encoder, embeddings, clip_frame_png):
    """Same, with a real face in view and the challenge already under way."""
    import spoofs
    from kiosk.observe import FaceObserver
    from kiosk.session import CertificationSession, run_session

    video = videos_dir / "liveportrait_d3.mp4"
    rgb = spoofs.read_frames(video, range(40))
    bgr = [cv2.cvtColor(rgb[i], cv2.COLOR_RGB2BGR) for i in range(40)]
    template = [embeddings.get(clip_frame_png(video, 5))]  # before cv2.VideoCapture is faked
    src, cap = fake_camera(monkeypatch, bgr, fail_after=40)
    session = CertificationSession(template, photo_encoder.encoder, actions=["turn_right", "blink"])
    states = []
    orig_feed = session.feed

    def feed(obs):
        out = orig_feed(obs)
        states.append(session.state)
        return out

    session.feed = feed
    with FaceObserver() as observer:
        verdict = run_session(session, src, observer)
    assert "challenge" in states  # the camera died during the challenge, not before it
    assert verdict.verdict == "fail" and verdict.reason == "camera_lost"
    assert not any(s["passed"] for s in verdict.steps)
