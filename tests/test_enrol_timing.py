"""Enrolment's pose steps wait for their spoken guidance (建模: 请稍微向左看 is 2.9 s, 请看着屏幕，保持不动 4.4 s).

An elderly resident waits for the whole sentence, then turns: with the prompt lengths given
(`prompt_seconds`, from the voice files in the app) a step is sentence + response time + capture,
and the frame kept for a direction comes from the capture part only. Without a voice the steps are
POSE_STAGE_S from the guidance, as before. Synthetic frames on a fake clock through the real
session (no face data, no FaceMesh): the person is a yaw timeline."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kiosk.enrolment import MAX_PROMPT_S, POSE_STAGE_S, POSES, RESPONSE_S, EnrolmentSession
from kiosk.frames import Frame
from kiosk.liveness.signals import Baseline
from kiosk.observe import FaceObservation, FrameObservation, Quality

FPS = 25
SPOKEN = {"enrol_look_left": 2.9, "enrol_look_right": 2.9, "enrol_look_straight": 4.4}
REACT_S = 1.0  # the person turns this long after the sentence is over
TURN_DEG = 7.0  # a slight turn, inside the probe's gate
RGB = np.full((480, 640, 3), 128, np.uint8)
LANDMARKS = np.stack([np.linspace(270, 370, 478), np.linspace(180, 300, 478), np.zeros(478)], axis=1).astype(np.float32)


class FakeEncoder:
    name = "fake"

    def encode(self, rgb, face):
        v = np.ones(128)
        return v / np.linalg.norm(v)


def observation(t: float, yaw: float) -> FrameObservation:
    i = round(t * FPS)
    q = Quality(128.0, 20.0, 200.0, 0.25, 160.0, 0.0, 1)
    face = FaceObservation(t, i, LANDMARKS, (270, 180, 370, 300), yaw, 0.0, 0.0, (0.3, 0.3), 0.0, q)
    return FrameObservation(Frame(RGB, t, i), face, 1)


class Listener:
    """A resident who turns as asked REACT_S after hearing each guidance (`spoken` seconds after it
    was given; `spoken` None: reads it at once). While the sentence is still being said the head
    stays where it was, drifting a degree toward the side named (not yet a turn)."""

    def __init__(self, spoken: dict[str, float] | None):
        self.spoken = spoken
        self.asked: list[tuple[float, float, float]] = []  # (shown, turns at, target yaw)

    def hear(self, t: float, events) -> None:
        for e in events:
            if e.kind == "enrol":
                heard = t + (self.spoken[e.code] if self.spoken else 0.0)
                target = {"enrol_look_left": TURN_DEG, "enrol_look_right": -TURN_DEG}.get(e.code, 0.0)
                self.asked.append((t, heard + REACT_S, target))

    def yaw(self, t: float) -> float:
        done = [target for _, at, target in self.asked if t >= at]
        looking = done[-1] if done else 0.0
        waiting = [target for shown, at, target in self.asked if shown <= t < at]
        if waiting and waiting[-1] and looking == 0.0:
            return 1.0 if waiting[-1] > 0 else -1.0
        return looking


def run(prompt_seconds, spoken, *, response_s: float = RESPONSE_S):
    """The session in its pose capture (liveness passed: baseline frontal), fed at FPS until done."""
    with ThreadPoolExecutor(1) as ex:
        s = EnrolmentSession(FakeEncoder(), actions=["blink"], executor=ex, prompt_seconds=prompt_seconds,
                             response_s=response_s)
        s.liveness.baseline = Baseline(eye=0.0, mouth=0.0, yaw=0.0, pitch=0.0, shape=LANDMARKS)
        person = Listener(spoken)
        t0 = 10.0
        person.hear(t0, s._begin_matching())  # liveness passed at t0: the first pose is asked for
        turned: dict[str, tuple[float, float]] = {}
        k = 1
        while s.state == "capturing" and k < 120 * FPS:
            t = t0 + k / FPS
            pose = POSES[s._pose]
            events = s.feed(observation(t, person.yaw(t)))
            if s._turned is not None:
                turned[pose] = (s._turned.face.t, s._turned.face.yaw)
            person.hear(t, events)
            k += 1
        s.finish(timeout=10)
    return s, turned


def test_with_the_prompt_lengths_each_step_starts_counting_once_its_guidance_is_heard():
    s, turned = run(SPOKEN.get, SPOKEN)
    assert s.verdict is not None and s.verdict.reason == "ok", s.verdict
    assert [w.code for w in s.pose_windows] == list(POSES)
    for w in s.pose_windows:
        assert w.capture - w.shown == pytest.approx(SPOKEN[w.code] + RESPONSE_S)
        assert w.end - w.capture == pytest.approx(POSE_STAGE_S)
    for a, b in zip(s.pose_windows, s.pose_windows[1:]):  # the next step follows on at once
        assert b.shown == pytest.approx(a.end, abs=1.5 / FPS)
    total = s.pose_windows[-1].end - s.pose_windows[0].shown
    assert total == pytest.approx(sum(SPOKEN[c] for c in POSES) + len(POSES) * (RESPONSE_S + POSE_STAGE_S), abs=0.2)

    # the frame kept for the left: from the left window's late part, turned, not from the sentence
    left = next(w for w in s.pose_windows if w.code == "enrol_look_left")
    t_left, yaw_left = turned["enrol_look_left"]
    assert left.capture <= t_left < left.end and t_left >= left.shown + SPOKEN["enrol_look_left"] + REACT_S
    assert yaw_left == TURN_DEG
    right = next(w for w in s.pose_windows if w.code == "enrol_look_right")
    t_right, yaw_right = turned["enrol_look_right"]
    assert right.capture <= t_right < right.end and yaw_right == -TURN_DEG
    # both went into the template set's poses
    poses = {e.t: e.quality["yaw_dev"] for e in s._encodings if e.kind == "pose"}
    assert poses == {t_left: TURN_DEG, t_right: -TURN_DEG}


def test_the_old_fixed_steps_kept_a_frame_from_before_the_sentence_ended():
    """What the change is for: 2.5 s steps under a 2.9 s sentence. The left step ends before the
    resident has turned; its 'left' frame is the near-straight head while they were listening, and
    the right one too (they turn left during the right step)."""
    s, turned = run(None, SPOKEN)
    assert all(w.capture == w.shown and w.end - w.shown == pytest.approx(POSE_STAGE_S) for w in s.pose_windows)
    left = next(w for w in s.pose_windows if w.code == "enrol_look_left")
    t_left, yaw_left = turned["enrol_look_left"]
    assert t_left < left.shown + SPOKEN["enrol_look_left"] and yaw_left == 1.0
    right = next(w for w in s.pose_windows if w.code == "enrol_look_right")
    t_right, yaw_right = turned["enrol_look_right"]
    assert t_right < right.shown + SPOKEN["enrol_look_right"] and yaw_right == -1.0


def test_without_a_voice_the_steps_keep_the_fixed_timing_and_a_reader_still_turns_in_time():
    s, turned = run(None, None)  # the text is read at once (the CLI, the app with the voice off)
    assert s.verdict is not None and s.verdict.reason == "ok"
    assert [round(w.end - w.shown, 2) for w in s.pose_windows] == [POSE_STAGE_S] * len(POSES)
    assert turned["enrol_look_left"][1] == TURN_DEG and turned["enrol_look_right"][1] == -TURN_DEG


def test_the_response_time_is_a_setting_and_a_broken_length_is_bounded():
    s, _ = run(SPOKEN.get, SPOKEN, response_s=3.0)
    assert all(w.capture - w.shown == pytest.approx(SPOKEN[w.code] + 3.0) for w in s.pose_windows)
    s, _ = run(lambda code: {"enrol_look_left": 1e9}.get(code, -5.0), None, response_s=0.5)
    spans = {w.code: round(w.capture - w.shown, 3) for w in s.pose_windows}
    assert spans == {"enrol_look_straight": 0.5, "enrol_look_left": MAX_PROMPT_S + 0.5, "enrol_look_right": 0.5}
