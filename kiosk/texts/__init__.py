"""The text catalogue: every resident-facing sentence by code (no Qt here).

The engine (session, quality, liveness) and the service emit codes and data; front ends
(the Qt app, the CLI) turn them into words here:

    text("result_timeout", action="blink")     -> 没有看到您完成“眨眼”动作。
    verdict_message("no_face")                  -> what happened + what to do next
    event_text(kind, code, data)                -> the line a session event shows
    voice_code_for_event(kind, code, data)      -> the voice file that speaks it (None: silent)
    voice_codes_for_result(reason, action)      -> [what happened, what to do next]
    all_voice_texts()                           -> code -> sentence for every voice file

Values given as `datetime.date` are written the Chinese way ({d} -> 2027年3月5日, {d:md} -> 3月5日);
an `action` value is written as the action's name. A missing code is logged and shown as
best it can be (never a KeyError on a resident's screen).
"""
from __future__ import annotations

import logging
import string
from datetime import date

from kiosk.texts.zh_CN import TEXTS

log = logging.getLogger(__name__)

LANGUAGE = "zh_CN"
# Prefixes of the codes that have a voice file (assets/voice/zh_CN/<code>.wav).
VOICE_PREFIXES = ("screen_", "state_", "prompt_", "guidance_", "progress_", "result_", "next_", "error_",
                  "status_", "camera_")
# Actions the catalogue can name (a test checks it names every action of kiosk.liveness).
ACTIONS = tuple(c.removeprefix("action_") for c in TEXTS if c.startswith("action_") and c != "action_unknown")
# Session events that are deliberately silent (no text, no voice).
SILENT_EVENTS = {("state", "challenge"), ("guidance", "ok")}


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


class _CnDate:
    def __init__(self, d: date):
        self.d = d

    def __format__(self, spec: str) -> str:
        return f"{self.d.month}月{self.d.day}日" if spec == "md" else cn_date(self.d)


def _value(key: str, v):
    if isinstance(v, date):
        return _CnDate(v)
    if key == "action":
        return TEXTS.get(f"action_{v}", TEXTS["action_unknown"]) if v else TEXTS["action_unknown"]
    return v


class _Lenient(dict):
    def __missing__(self, key):
        log.warning("text: no value for {%s}", key)
        return ""


def has(code: str) -> bool:
    return code in TEXTS


def text(code: str, **data) -> str:
    """The sentence for `code`, filled with `data`; never raises for a missing code or value."""
    template = TEXTS.get(code)
    if template is None:
        log.warning("text: no catalogue entry for %r", code)
        return ""
    values = _Lenient({k: _value(k, v) for k, v in data.items()})
    if "action" in _fields(template) and "action" not in values:
        values["action"] = TEXTS["action_unknown"]
    try:
        return string.Formatter().vformat(template, (), values)
    except (ValueError, IndexError) as e:
        log.warning("text: cannot fill %r: %s", code, e)
        return template


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def texts(*codes: str, **data) -> str:
    """Several sentences, joined (empty ones skipped)."""
    return "".join(text(c, **data) for c in codes if c)


# ---------------------------------------------------------------------- verdicts and refusals
def reason_text(reason: str, action: str | None = None) -> str:
    """What happened (the verdict reason)."""
    code = f"result_{reason}"
    if code not in TEXTS:
        log.warning("text: unknown verdict reason %r", reason)
        code = "result_no_face"
    return text(code, action=action)


def next_text(code: str) -> str:
    """What to do next after a verdict reason or a refusal code."""
    return text(f"next_{code}") if f"next_{code}" in TEXTS else text("next_default")


def verdict_message(reason: str, action: str | None = None) -> str:
    """The whole advice for a verdict (CLI, records): what happened, then what to do (none after a pass)."""
    if reason == "ok":
        return text("result_ok")
    return reason_text(reason, action) + next_text(reason if f"result_{reason}" in TEXTS else "no_face")


def error_text(code: str, **data) -> str:
    """Why the service refused (what happened)."""
    return text(f"error_{code}", **data) if f"error_{code}" in TEXTS else text("next_help")


def error_message(code: str, **data) -> str:
    """The whole advice for a refusal: what happened, then what to do."""
    return error_text(code, **data) + (text(f"next_{code}") if f"next_{code}" in TEXTS else "")


def status_label(kind: str) -> str:
    return text(f"label_status_{kind}") if f"label_status_{kind}" in TEXTS else kind


def category_label(value: str) -> str:
    return text(f"category_{value}")


# ---------------------------------------------------------------------- session events
def event_text(kind: str, code: str, data: dict | None = None) -> str:
    """The line a session event shows on the face screen (or prints in the CLI)."""
    data = data or {}
    if kind == "result":
        return verdict_message(code, data.get("action"))
    voice = voice_code_for_event(kind, code, data)
    return text(voice) if voice else ""


def voice_code_for_event(kind: str, code: str, data: dict | None = None) -> str | None:
    """Which voice file speaks a session event (None: stay quiet)."""
    data = data or {}
    if (kind, code) in SILENT_EVENTS:
        return None
    if kind == "prompt":
        c = f"prompt_{code}_again" if data.get("again") else f"prompt_{code}"
    elif kind == "guidance":
        c = f"guidance_{code}"
    elif kind == "state":
        c = f"state_{code}"
    elif kind == "progress":
        c = "progress_ok"
    else:
        return None
    if c not in TEXTS:
        log.warning("text: no voice for event %s/%s", kind, code)
        return None
    return c


def voice_code_for_result(reason: str, action: str | None = None) -> str:
    if reason == "timeout":
        return f"result_timeout_{action}" if action in ACTIONS else "result_timeout"
    return f"result_{reason}" if f"result_{reason}" in TEXTS else "result_no_face"


def voice_codes_for_result(reason: str, action: str | None = None) -> list[str]:
    """What the result screen says: what happened, then (after a failure) what to do next."""
    first = voice_code_for_result(reason, action)
    if reason == "ok":
        return [first]
    nxt = f"next_{reason}" if f"next_{reason}" in TEXTS else "next_default"
    return [first, nxt]


def voice_codes_for_error(code: str) -> list[str]:
    out = [f"error_{code}"] if f"error_{code}" in TEXTS else []
    return out + ([f"next_{code}"] if out and f"next_{code}" in TEXTS else [])


# ---------------------------------------------------------------------- voice files
def _spoken(code: str) -> str:
    return TEXTS.get(f"{code}@voice", TEXTS[code])


def all_voice_texts() -> dict[str, str]:
    """code -> sentence for every voice file (packaging/make_voice.py writes one WAV each)."""
    out = {}
    for code in TEXTS:
        if "@" in code or not code.startswith(VOICE_PREFIXES):
            continue
        out[code] = _spoken(code)
    for action in ACTIONS:
        out[f"result_timeout_{action}"] = text("result_timeout", action=action)
    return out


def all_texts() -> dict[str, str]:
    """Every catalogue entry (the bundled font must cover them all)."""
    return dict(TEXTS)
