"""PAD through the real session and driver (kiosk.session + kiosk.driver + kiosk.pad).

A screen replay that passes the actions is refused with `presentation_attack` before any
comparison (the matcher is never called); live clips still pass; `pad_enabled = false` gives
the old behaviour; the colour flash in report mode never changes a verdict; the virtual camera
demo passes with the flash on and its face follows the colours; enforce mode refuses a face
that does not follow. Clips: ../shared/data/faces (KIOSK_TEST_DATA); templates as in
test_session.py (a frame of the live twin, or of the replayed video itself when there is none).
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from kiosk.config import Settings, SettingsError, validate
from kiosk.pad.flash import FlashThresholds, save_thresholds
from kiosk.pad.options import session_pad_options
from test_session import best_frame

LIVE = ("liveportrait_d9.mp4", ["blink", "turn_left"])
REPLAY = "manikantha_replay_phone.mp4"  # passes `blink` without PAD (template from itself)


def offline(settings: Settings | None = None) -> dict:
    """The session options `kiosk certify` uses on a file (every sampled frame scored inline)."""
    return session_pad_options(settings or Settings(), realtime=False)


class NeverCompare:
    """A matcher that fails the test if the session compares anything."""

    def compare(self, *a, **kw):
        raise AssertionError("a comparison was made for a presented attack")


@pytest.fixture(scope="module")
def replay_video(faces_dir):
    return faces_dir / "spoof" / "videos" / REPLAY


@pytest.fixture(scope="module")
def replay_template(replay_video, clips, clip_frame_png):
    return clip_frame_png(replay_video, best_frame(clips.get(replay_video)))


@pytest.fixture(scope="module")
def live_template(videos_dir, clip_frame_png):
    return clip_frame_png(videos_dir / LIVE[0], 5)


# ------------------------------------------------------------------ settings (no data)
def test_pad_settings_are_validated(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    s = validate({"pad_enabled": False, "pad_live_min": 0.8, "pad_sample_every": 2, "flash_challenge": "off"})
    assert (s.pad_enabled, s.pad_live_min, s.pad_sample_every, s.flash_challenge) == (False, 0.8, 2, "off")
    for bad in ({"pad_live_min": 1.5}, {"pad_live_min": "高"}, {"pad_sample_every": 5}, {"pad_enabled": "yes"},
                {"flash_challenge": "on"}):
        with pytest.raises(SettingsError) as e:
            validate(bad)
        assert next(iter(bad)) in e.value.message
    with pytest.raises(SettingsError, match="校准"):  # enforce needs a calibrated flash.toml on this kiosk
        validate({"flash_challenge": "enforce"})
    save_thresholds(FlashThresholds(calibrated=True))
    assert validate({"flash_challenge": "enforce"}).flash_challenge == "enforce"


def test_default_settings_turn_pad_and_the_flash_report_on(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    opts = offline()
    assert opts["pad"].th.live_min == Settings().pad_live_min and opts["flash_mode"] == "report"
    assert offline(Settings(pad_enabled=False, flash_challenge="off")) == {"flash_mode": "off"}


def test_report_mode_never_decides_even_with_calibrated_thresholds():
    from kiosk.session import CertificationSession

    class NoEncoder:
        def encode(self, rgb, face):
            raise AssertionError

    s = CertificationSession([[0.0] * 128], NoEncoder(), actions=["blink"], flash_mode="report",
                             flash_thresholds=FlashThresholds(calibrated=True, min_score=0.99))
    assert s._flash.thresholds.calibrated is False
    with pytest.raises(ValueError):
        CertificationSession([[0.0] * 128], NoEncoder(), actions=["blink"], flash_mode="enforce")


# ------------------------------------------------------------------ clips through the real driver
def test_a_replay_is_refused_before_any_comparison(certify, replay_video, replay_template):
    v = certify(replay_video, replay_template, ["blink"], matcher=NeverCompare(), **offline())
    assert v.verdict == "fail" and v.reason == "presentation_attack", (v.reason, v.liveness.get("pad"))
    assert v.match is None and v.liveness.get("probe", {}).get("frames", 0) == 0  # nothing was compared
    pad = v.liveness["pad"]
    assert pad["attack"] and pad["cue"] == "minifasnet" and pad["live_score"] < Settings().pad_live_min
    assert pad["frames_scored"] >= 3 and "planarity" in pad["evidence"]
    assert pad["flash"] == {"mode": "report", "shown": False, "sequence": pad["flash"]["sequence"]}
    assert "未通过" in v.message and "工作人员" in v.message
    for word in ("屏幕", "翻拍", "照片", "攻击", "活体"):  # never why
        assert word not in v.message


def test_pad_disabled_by_setting_gives_the_old_behaviour(certify, replay_video, replay_template):
    old = certify(replay_video, replay_template, ["blink"])
    off = certify(replay_video, replay_template, ["blink"], **offline(Settings(pad_enabled=False,
                                                                                flash_challenge="off")))
    assert off.to_json() == old.to_json() and off.reason != "presentation_attack"
    assert "pad" not in off.liveness


def test_a_live_clip_still_passes_with_pad_on(certify, videos_dir, live_template):
    v = certify(videos_dir / LIVE[0], live_template, LIVE[1], **offline())
    assert v.verdict == "pass", (v.reason, v.liveness.get("pad"))
    assert not v.liveness["pad"]["attack"] and v.liveness["pad"]["cue"] == "live"


def test_a_pad_that_scored_nothing_fails_closed(certify, videos_dir, live_template):
    """PAD's thread failed or starved for a whole challenge: the face went unchecked, so it is
    not let through (an unattended kiosk), and the evidence says why (cue "unscored")."""
    opts = offline()

    class BrokenMonitor(type(opts["pad"])):
        def observe(self, rgb, obs):
            pass  # nothing reaches the models

    opts["pad"] = BrokenMonitor(th=opts["pad"].th)
    v = certify(videos_dir / LIVE[0], live_template, LIVE[1], matcher=NeverCompare(), **opts)
    assert v.reason == "presentation_attack" and v.match is None
    assert v.liveness["pad"]["cue"] == "unscored" and v.liveness["pad"]["frames_scored"] == 0


def _drive_with_flash(video, template_vecs, encoder, actions, clips, mode="report", th=None, start_at=None):
    """A session whose flash "started" when the challenge did (a recorded clip does not reflect it)."""
    from kiosk.driver import drive
    from kiosk.frames import VideoFileSource
    from kiosk.session import CertificationSession

    opts = offline()
    opts.update(flash_mode=mode, flash_thresholds=th or FlashThresholds())
    session = CertificationSession(template_vecs, encoder, actions=actions, **opts)

    def on_events(t, events):
        if t is not None and any(e.kind == "state" and e.code == "challenge" for e in events):
            session.flash_started(t if start_at is None else start_at)

    return drive(session, VideoFileSource(video), clips.get(video).replay(), on_events=on_events)


def test_flash_report_mode_never_changes_a_verdict(certify, videos_dir, live_template, embeddings, photo_encoder,
                                                   clips):
    video = videos_dir / LIVE[0]
    plain = certify(video, live_template, LIVE[1], **offline(Settings(flash_challenge="off")))
    v = _drive_with_flash(video, [embeddings.get(live_template)], photo_encoder.encoder, LIVE[1], clips)
    assert (v.verdict, v.reason) == (plain.verdict, plain.reason) == ("pass", "ok")
    flash = v.liveness["pad"]["flash"]
    assert flash["shown"] and flash["decided"] is False and flash["live"] is None
    assert flash["evidence"]["mode"] == "report"
    # The session lasted at least the sequence (its frames span the sequence; no "too_few_frames").
    assert flash["evidence"].get("reason") != "too_few_frames", flash["evidence"]


def test_enforce_mode_refuses_a_face_that_does_not_follow(videos_dir, live_template, embeddings, photo_encoder,
                                                           clips):
    """Calibrated and enforcing: a recorded clip (whose face cannot follow this sequence) is refused."""
    th = FlashThresholds(calibrated=True, min_score=0.6)
    v = _drive_with_flash(videos_dir / LIVE[0], [embeddings.get(live_template)], photo_encoder.encoder, LIVE[1],
                          clips, mode="enforce", th=th)
    flash = v.liveness["pad"]["flash"]
    assert flash["decided"] and flash["live"] is False, flash
    assert v.reason == "presentation_attack" and v.match is None
    assert v.liveness["pad"]["cue"] == "flash"


def test_the_virtual_camera_demo_passes_with_the_flash_on(photo_encoder):
    from kiosk.demo.follower import PromptFollower
    from kiosk.demo.virtual_camera import VirtualCamera
    from kiosk.driver import drive
    from kiosk.observe import FaceObserver
    from kiosk.session import CertificationSession

    encoder = photo_encoder.encoder
    cam = VirtualCamera(realtime=False, seed=3)
    with FaceObserver(static=True) as still:
        first = next(iter(cam))
        template = [encoder.encode(first.rgb, still.observe(first).face)]
    cam = VirtualCamera(realtime=False, seed=3)
    session = CertificationSession(template, encoder, actions=["blink", "turn_left"], **offline())
    follower = PromptFollower(cam)

    def on_events(t, events):
        if t is None:
            return
        if any(e.kind == "state" and e.code == "challenge" for e in events):
            session.flash_started(cam.show_flash(session.flash_sequence, t))
        follower(t, events)

    with FaceObserver() as observer:
        v = drive(session, cam, observer, on_events=on_events, max_s=90)
    assert v.verdict == "pass", (v.reason, v.liveness.get("pad"))
    pad = v.liveness["pad"]
    assert not pad["attack"] and pad["flash"]["shown"]
    assert pad["flash"]["score"] > 0.6 and pad["flash"]["decided"] is False, pad["flash"]


def test_evidence_is_plain_json(certify, replay_video, replay_template):
    import json

    v = certify(replay_video, replay_template, ["blink"], **offline())
    json.dumps(v.liveness)  # the store records it as it is
    assert replace(Settings(), pad_enabled=True).pad_enabled
