"""The voice queue, without audio hardware: a fake backend and a fake clock."""
from __future__ import annotations

from kiosk.app.voice import GUIDANCE_TTL_S, VoiceQueue


class FakeBackend:
    def __init__(self):
        self.playing: tuple[str, int] | None = None
        self.started: list[str] = []
        self.stopped: list[str] = []

    def start(self, code, token):
        self.playing = (code, token)
        self.started.append(code)
        return True

    def stop(self):
        if self.playing:
            self.stopped.append(self.playing[0])
        self.playing = None


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def make():
    b, c = FakeBackend(), Clock()
    return VoiceQueue(b, c), b, c


def end(q, b):
    """The sentence playing comes to its natural end."""
    code, token = b.playing
    b.playing = None
    q.finished(token)
    return code


def test_a_new_sentence_waits_for_the_one_playing():
    q, b, c = make()
    q.enter("face", ["screen_proxy_face"])  # the 8-second proxy instruction
    q.say("state_waiting_face")
    q.say("guidance_no_face")
    assert b.started == ["screen_proxy_face"] and b.stopped == []
    c.t += 1.3
    assert b.stopped == []  # nothing cuts it after 1.3 s any more
    c.t += 6.7
    end(q, b)
    assert b.playing[0] == "state_waiting_face"


def test_a_result_interrupts_guidance_and_drops_the_face_talk_waiting():
    q, b, _ = make()
    q.say("guidance_too_dark")
    q.say("prompt_blink")  # waits? no: a prompt interrupts guidance
    assert b.stopped == ["guidance_too_dark"] and b.playing[0] == "prompt_blink"
    q.say("progress_ok")
    q.say("guidance_too_far")
    q.say("result_no_match")
    q.say("next_no_match")
    assert b.stopped == ["guidance_too_dark", "prompt_blink"]
    assert b.playing[0] == "result_no_match"
    assert end(q, b) == "result_no_match" and end(q, b) == "next_no_match" and b.playing is None
    assert sorted(e[2] for e in q.events if e[1].startswith("dropped")) == ["guidance_too_far", "progress_ok"]


def test_a_prompt_does_not_interrupt_another_prompt_and_a_result_follows_its_sentence():
    q, b, _ = make()
    q.say("prompt_blink")
    q.say("prompt_turn_left")
    assert b.stopped == [] and b.playing[0] == "prompt_blink"
    end(q, b)
    assert b.playing[0] == "prompt_turn_left"
    q.say("next_ok", interrupt=False)
    assert b.playing[0] == "prompt_turn_left"


def test_stale_guidance_is_dropped_and_newer_guidance_replaces_older():
    q, b, c = make()
    q.say("prompt_blink")
    q.say("guidance_too_dark")
    q.say("guidance_too_far")  # replaces too_dark, still waiting
    c.t += GUIDANCE_TTL_S + 0.5
    end(q, b)
    assert b.playing is None and "guidance_too_far" not in b.started and "guidance_too_dark" not in b.started
    q.say("guidance_off_centre")
    assert b.playing[0] == "guidance_off_centre"
    q.say("guidance_off_centre")  # already saying it: not twice
    end(q, b)
    assert b.playing is None and q.history == ["prompt_blink", "guidance_off_centre"]


def test_leaving_a_screen_ends_its_intro_and_a_late_finish_is_ignored():
    q, b, _ = make()
    q.enter("consent", ["screen_consent"])
    token = b.playing[1]
    q.enter("face", [], speak=False)
    assert b.stopped == ["screen_consent"] and b.playing is None
    q.say("state_waiting_face")
    q.finished(token)  # the stopped file reports its end late: the new sentence goes on
    assert b.playing[0] == "state_waiting_face"


def test_replay_on_the_home_screen_says_the_home_instruction_not_the_last_result():
    q, b, _ = make()
    q.enter("result", ["result_ok", "next_ok"])
    end(q, b)
    end(q, b)
    q.enter("home", ["screen_home"], speak=False)
    assert b.playing is None
    q.replay()
    assert b.playing[0] == "screen_home"
    end(q, b)
    q.enter("face", [], speak=False)
    q.say("prompt_blink")
    end(q, b)
    q.say("guidance_too_dark")
    end(q, b)
    q.replay()  # the face screen's instruction is the action, not the guidance
    assert b.playing[0] == "prompt_blink"


def test_a_backend_that_cannot_play_lets_the_queue_go_on():
    class Silent:
        def start(self, code, token):
            return False

        def stop(self):
            pass

    q = VoiceQueue(Silent(), Clock())
    q.enter("result", ["result_no_face", "next_no_face"])
    q.say("screen_home")
    assert q.history == ["result_no_face", "next_no_face", "screen_home"] and not q.busy


def test_a_state_line_the_session_has_left_gives_way_but_a_screen_intro_does_not():
    q, b, _ = make()
    q.enter("face", [], speak=False)
    q.say("state_waiting_face")
    q.say("state_guiding")  # the face is found: "请正对屏幕…" is over
    assert b.stopped == ["state_waiting_face"] and b.playing[0] == "state_guiding"
    q.say("prompt_blink")  # ... but "请保持不动" is short and said to the end (PROMPT_WAITS_FOR)
    assert b.playing[0] == "state_guiding" and end(q, b) == "state_guiding"
    assert b.playing[0] == "prompt_blink"
    q.say("state_settling")
    assert b.playing[0] == "prompt_blink"  # a prompt is never cut by a state line
    q.enter("face", [], speak=False)
    q.say("state_waiting_face")
    q.say("prompt_blink")
    assert b.stopped[-1] == "state_waiting_face" and b.playing[0] == "prompt_blink"  # still cut by a prompt
    q.enter("face", ["screen_proxy_face"])
    q.say("state_waiting_face")
    q.say("prompt_blink")
    assert b.playing[0] == "screen_proxy_face"  # the helper's instruction is heard to the end
    end(q, b)
    assert b.playing[0] == "prompt_blink" and "state_waiting_face" not in b.started[-2:]


def test_a_prompt_waits_for_the_short_hold_still_line():
    """"请保持不动" is said as the challenge begins; the first prompt follows it, never cuts it."""
    q, b, _ = make()
    q.say("state_guiding")
    q.say("prompt_blink")
    assert b.playing[0] == "state_guiding" and b.stopped == []
    assert end(q, b) == "state_guiding"
    assert b.playing[0] == "prompt_blink"
