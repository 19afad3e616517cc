"""The text catalogue: every code the engine and the service can emit has words and a voice file.

The codes are taken from the engine's own lists (not copied here), so a new reason, guidance,
state, refusal or status without words or voice fails this test.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from kiosk import texts
from kiosk.texts import TEXTS

ROOT = Path(__file__).resolve().parents[1]
VOICE_DIR = ROOT / "assets" / "voice" / "zh_CN"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _manifest() -> dict:
    return json.loads((VOICE_DIR / "manifest.json").read_text(encoding="utf-8"))["prompts"]


def emitted_voice_codes() -> dict[str, str]:
    """voice code -> where it comes from, for everything the engine and the service can emit."""
    from kiosk.liveness.challenge import FAIL_REASONS
    from kiosk.liveness.events import ACTIONS
    from kiosk.policy import STATUS_KINDS
    from kiosk.quality import GUIDANCE_CODES
    from kiosk.service import ERROR_CODES, NOT_COUNTED_REASONS
    from kiosk.session import ABORT_REASONS, POOR_QUALITY_REASONS, REASONS, STATES

    out: dict[str, str] = {}
    reasons = set(REASONS) | set(ABORT_REASONS) | set(NOT_COUNTED_REASONS) | set(POOR_QUALITY_REASONS.values()) \
        | set(FAIL_REASONS)
    for r in sorted(reasons):
        for action in ((None,) + ACTIONS if r == "timeout" else (None,)):
            for code in texts.voice_codes_for_result(r, action):
                out[code] = f"reason {r} {action or ''}"
    for g in GUIDANCE_CODES:
        out[texts.voice_code_for_event("guidance", g)] = f"guidance {g}"
    for s in STATES:
        if ("state", s) not in texts.SILENT_EVENTS:
            out[texts.voice_code_for_event("state", s)] = f"state {s}"
    for a in ACTIONS:
        out[texts.voice_code_for_event("prompt", a)] = f"prompt {a}"
        out[texts.voice_code_for_event("prompt", a, {"again": True})] = f"prompt {a} again"
    out[texts.voice_code_for_event("progress", "blink")] = "progress"
    for e in ERROR_CODES:
        for code in texts.voice_codes_for_error(e):
            out[code] = f"error {e}"
        assert texts.voice_codes_for_error(e), f"refusal {e} has no error_{e}"
    for k in STATUS_KINDS:
        out[f"status_{k}"] = f"status {k}"
    return out


def test_every_emitted_code_has_catalogue_text_and_a_voice_file_in_the_manifest():
    manifest = _manifest()
    voice = texts.all_voice_texts()
    problems = []
    for code, why in sorted(emitted_voice_codes().items()):
        if code is None:
            problems.append(f"{why}: no voice code")
            continue
        if code not in voice:
            problems.append(f"{why}: {code} has no catalogue text")
        elif not CJK.search(voice[code]) or "{" in voice[code]:
            problems.append(f"{why}: {code} text is not a plain sentence: {voice[code]!r}")
        if not (VOICE_DIR / f"{code}.wav").is_file():
            problems.append(f"{why}: assets/voice/zh_CN/{code}.wav is missing")
        if manifest.get(code, {}).get("text") != voice.get(code):
            problems.append(f"{why}: {code} is not in the manifest with its current text")
    assert problems == []


def test_every_voice_text_has_its_file_and_no_file_is_orphaned():
    voice = texts.all_voice_texts()
    files = {p.stem for p in VOICE_DIR.glob("*.wav")}
    assert sorted(set(voice) - files) == [] and sorted(files - set(voice)) == []
    assert set(_manifest()) == set(voice)


def test_every_reason_guidance_status_and_refusal_has_its_words_on_screen():
    from kiosk.liveness.events import ACTIONS
    from kiosk.policy import STATUS_KINDS
    from kiosk.quality import GUIDANCE_CODES
    from kiosk.service import ERROR_CODES, NOT_COUNTED_REASONS
    from kiosk.session import ABORT_REASONS, REASONS

    assert set(ACTIONS) <= set(texts.ACTIONS)
    for r in set(REASONS) | set(ABORT_REASONS) | set(NOT_COUNTED_REASONS):
        assert f"result_{r}" in TEXTS and f"next_{r}" in TEXTS, r
        assert CJK.search(texts.verdict_message(r, "blink")), r
    for g in GUIDANCE_CODES:
        assert CJK.search(texts.event_text("guidance", g)), g
    for k in STATUS_KINDS:
        assert CJK.search(texts.status_label(k)) and f"record_{k}" in TEXTS, k
    for e in ERROR_CODES:
        msg = texts.error_message(e, detail="号码不对。", label="养老资格认证", n=3)
        assert CJK.search(msg) and "{" not in msg, e


def test_a_fail_reason_says_what_happened_and_what_to_do_in_different_sentences():
    from kiosk.session import ABORT_REASONS, REASONS

    for r in set(REASONS) | set(ABORT_REASONS):
        if r == "ok":
            continue
        happened, nxt = texts.reason_text(r, "blink"), texts.next_text(r)
        assert happened and nxt and happened != nxt, r
        assert not (set(re.split("[。；，]", happened)) & set(re.split("[。；，]", nxt))) - {""}, (r, happened, nxt)


def test_text_fills_dates_actions_and_survives_missing_codes_and_values(caplog):
    assert texts.text("result_timeout", action="turn_left") == "没有看到您完成“向左转头”动作。"
    assert texts.text("result_timeout") == "没有看到您完成“指定”动作。"
    assert texts.text("record_due", deadline=date(2027, 3, 5)) == "请在2027年3月5日前完成认证。"
    assert texts.text("record_not_yet_open_this_year", opens=date(2026, 2, 10)) == "本年度认证尚未开始（2月10日开始）。"
    assert texts.cn_date(date(2028, 2, 29)) == "2028年2月29日"
    with caplog.at_level("WARNING"):
        assert texts.text("no_such_code") == ""
        assert texts.text("record_due") == "请在前完成认证。"
    assert "no_such_code" in caplog.text and "deadline" in caplog.text


def test_event_texts_and_voices_agree():
    """What the face screen shows is what is spoken (state lines included)."""
    for kind, code, data in [("state", "waiting_face", {}), ("state", "guiding", {}), ("state", "settling", {}),
                             ("state", "matching", {}), ("prompt", "blink", {}), ("prompt", "nod", {"again": True}),
                             ("guidance", "too_dark", {}), ("progress", "blink", {"done": 1})]:
        v = texts.voice_code_for_event(kind, code, data)
        assert v and texts.event_text(kind, code, data) == texts.all_voice_texts()[v], (kind, code)
    assert texts.event_text("state", "challenge") == "" and texts.voice_code_for_event("guidance", "ok") is None


def test_the_catalogue_has_no_qt_and_the_engine_no_chinese():
    import subprocess
    import sys

    code = "import sys, kiosk.texts; assert not any(m.startswith('PySide6') for m in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
    for rel in ("kiosk/session.py", "kiosk/quality.py", "kiosk/liveness/events.py", "kiosk/service.py",
                "kiosk/policy.py", "kiosk/operators.py", "kiosk/enrolment.py", "kiosk/visits.py"):
        src = (ROOT / rel).read_text(encoding="utf-8")
        lines = [ln for ln in src.splitlines() if CJK.search(ln.split("#")[0]) and '"""' not in ln]
        body = [ln for ln in lines if not ln.strip().startswith(("#", "*", "-"))]
        assert not [ln for ln in body if re.search(r"[\"'][^\"']*[\u4e00-\u9fff]", ln)], (rel, body)


@pytest.mark.parametrize("code", ["ok", "no_face", "timeout"])
def test_verdict_message_is_what_the_cli_prints(code):
    from kiosk.session import Verdict

    v = Verdict("pass" if code == "ok" else "fail", code, [], action="blink" if code == "timeout" else None)
    assert v.to_json()["message"] == texts.verdict_message(code, v.action) and CJK.search(v.message)


def test_every_enrolment_code_has_its_words():
    from kiosk.enrolment import ERROR_CODES, GUIDANCE_CODES, REFUSAL_CODES

    for code in GUIDANCE_CODES:
        assert CJK.search(texts.text(f"enrol_{code}")), code
    for code in REFUSAL_CODES:
        assert CJK.search(texts.text(f"enrol_refused_{code}")), code
    for code in ERROR_CODES:
        msg = texts.text(f"enrol_error_{code}", name="甲", id=3)
        assert CJK.search(msg) and "{" not in msg, code
    for status in ("pending_review", "approved", "rejected"):
        assert CJK.search(texts.text(f"enrol_status_{status}")), status
